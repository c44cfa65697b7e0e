//! The Ticket aggregate: decides (handle) and remembers (apply).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::{AlertOrigin, Command, TicketCommand};
use crate::comments::Comments;
use crate::error::TicketError;
use crate::event::TicketEvent;
use crate::services::TicketServices;
use crate::values::{
    self, Asset, Criticality, Observable, Resolution, Severity, Source, Status, TEXT_MAX, TITLE_MAX,
};

/// Samples of raw alert messages a ticket keeps; the count keeps growing.
pub const ALERT_SAMPLES_MAX: usize = 20;
/// Characters of each raw sample kept (a syslog datagram may be 64 KiB).
pub const ALERT_SAMPLE_CHARS: usize = 4_096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: Uuid,
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// A ticket as its events made it. `version` is the number of events applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Ticket {
    pub id: Option<Uuid>,
    pub number: Option<String>,
    pub title: String,
    pub description: String,
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub resolution: Option<Resolution>,
    pub resolution_summary: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub source: Option<Source>,
    pub source_ip: Option<IpAddr>,
    pub destination_ip: Option<IpAddr>,
    pub origin: Option<AlertOrigin>,
    pub source_asset: Option<Asset>,
    pub destination_asset: Option<Asset>,
    pub assignee: Option<String>,
    pub tags: BTreeSet<String>,
    pub observables: Vec<Observable>,
    pub comments: Comments,
    pub alert_count: u64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub alert_samples: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl Ticket {
    pub fn exists(&self) -> bool {
        self.status.is_some()
    }

    /// Folds a stream of events from scratch: the replay of auditors.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a TicketEvent>) -> Ticket {
        let mut ticket = Ticket::default();
        for e in events {
            ticket.apply(e.clone());
        }
        ticket
    }

    fn status_for(&self, command: &Command) -> Result<Status, TicketError> {
        match self.status {
            None => match command {
                Command::Open(_) => Ok(Status::New),
                _ => Err(TicketError::NotFound),
            },
            Some(status) => Ok(status),
        }
    }

    fn refuse(command: &Command, status: Status) -> TicketError {
        TicketError::InvalidTransition {
            command: command.name(),
            status,
        }
    }

    async fn decide(
        &self,
        cmd: TicketCommand,
        services: &dyn TicketServices,
    ) -> Result<Vec<TicketEvent>, TicketError> {
        let status = self.status_for(&cmd.command)?;
        let by = cmd.actor.name.clone();
        let at = services.now();
        let command = cmd.command;
        if self.exists() && matches!(command, Command::Open(_)) {
            return Err(TicketError::AlreadyExists);
        }
        // Every command but reopen is refused on a CLOSED ticket; a SIEM
        // update of its incident is recorded without changing it.
        if status == Status::Closed
            && !matches!(
                command,
                Command::Reopen { .. } | Command::RecordSiemUpdate(_)
            )
        {
            return Err(Self::refuse(&command, status));
        }
        let event = match command {
            Command::Open(open) => {
                if self.exists() {
                    return Err(TicketError::AlreadyExists);
                }
                let title = values::single_line("title", &open.title, TITLE_MAX)?;
                let description = values::free_text("description", &open.description, TEXT_MAX)?;
                let tags = values::tags(&open.tags)?;
                let origin = open.origin.map(sanitize_origin);
                let (source_asset, destination_asset) = services
                    .assets(open.source_ip, open.destination_ip)
                    .await
                    .map_err(|e| TicketError::Lookup(e.0))?;
                // A critical destination raises the severity one step.
                let critical = destination_asset
                    .as_ref()
                    .is_some_and(|a| a.criticality == Criticality::Critical);
                let severity = if critical {
                    open.severity.escalated()
                } else {
                    open.severity
                };
                let escalated_from = (severity != open.severity).then_some(open.severity);
                let n = services
                    .next_ticket_number()
                    .await
                    .map_err(|e| TicketError::Lookup(e.0))?;
                TicketEvent::TicketOpened {
                    ticket_id: open.ticket_id,
                    number: values::ticket_number(n),
                    title,
                    description,
                    severity,
                    source: open.source,
                    source_ip: open.source_ip,
                    destination_ip: open.destination_ip,
                    tags,
                    origin,
                    source_asset,
                    destination_asset,
                    escalated_from,
                    by,
                    at,
                }
            }
            ref c @ Command::Assign { ref assignee } => {
                if status == Status::Resolved {
                    return Err(Self::refuse(c, status));
                }
                let found = services
                    .assignee(assignee.trim())
                    .await
                    .map_err(|e| TicketError::Lookup(e.0))?
                    .ok_or_else(|| {
                        TicketError::validation("assignee", format!("no enabled user '{assignee}'"))
                    })?;
                if self.assignee.as_deref() == Some(found.username.as_str()) {
                    return Err(TicketError::AlreadyAssigned(found.username));
                }
                TicketEvent::TicketAssigned {
                    assignee: found.username,
                    assignee_name: found.display_name,
                    previous: self.assignee.clone(),
                    by,
                    at,
                }
            }
            Command::Unassign => match &self.assignee {
                Some(previous) => TicketEvent::TicketUnassigned {
                    previous: previous.clone(),
                    by,
                    at,
                },
                None => return Err(TicketError::NotAssigned),
            },
            ref c @ Command::Start => match status {
                Status::New => TicketEvent::WorkStarted { by, at },
                _ => return Err(Self::refuse(c, status)),
            },
            ref c @ Command::Hold { ref reason } => match status {
                Status::InProgress => TicketEvent::TicketPutOnHold {
                    reason: values::single_line("reason", reason, TITLE_MAX)?,
                    by,
                    at,
                },
                _ => return Err(Self::refuse(c, status)),
            },
            ref c @ Command::Resume => match status {
                Status::OnHold => TicketEvent::WorkResumed { by, at },
                _ => return Err(Self::refuse(c, status)),
            },
            ref c @ Command::Resolve {
                resolution,
                ref summary,
            } => {
                if !status.is_open() {
                    return Err(Self::refuse(c, status));
                }
                let resolution = resolution.ok_or_else(|| {
                    TicketError::validation("resolution", "a resolution is required")
                })?;
                if resolution == Resolution::Duplicate {
                    return Err(TicketError::validation(
                        "resolution",
                        "use mark-duplicate to resolve as DUPLICATE: it needs the surviving ticket",
                    ));
                }
                TicketEvent::TicketResolved {
                    from: status,
                    resolution,
                    summary: values::free_text("summary", summary, TEXT_MAX)?,
                    duplicate_of: None,
                    duplicate_of_number: None,
                    by,
                    at,
                }
            }
            ref c @ Command::MarkDuplicate {
                of,
                ref of_number,
                ref summary,
            } => {
                if !status.is_open() {
                    return Err(Self::refuse(c, status));
                }
                if Some(of) == self.id {
                    return Err(TicketError::validation(
                        "of",
                        "a ticket cannot duplicate itself",
                    ));
                }
                TicketEvent::TicketResolved {
                    from: status,
                    resolution: Resolution::Duplicate,
                    summary: values::free_text("summary", summary, TEXT_MAX)?,
                    duplicate_of: Some(of),
                    duplicate_of_number: of_number
                        .as_deref()
                        .map(|n| values::single_line("of_number", n, 32))
                        .transpose()?,
                    by,
                    at,
                }
            }
            ref c @ Command::Close { ref note } => match status {
                Status::Resolved => TicketEvent::TicketClosed {
                    note: values::free_text("note", note, TEXT_MAX)?,
                    by,
                    at,
                },
                _ => return Err(Self::refuse(c, status)),
            },
            ref c @ Command::Reopen { ref reason } => match status {
                Status::Resolved | Status::Closed => TicketEvent::TicketReopened {
                    from: status,
                    reason: values::single_line("reason", reason, TITLE_MAX)?,
                    previous_resolution: self.resolution,
                    by,
                    at,
                },
                _ => return Err(Self::refuse(c, status)),
            },
            Command::ChangeSeverity { severity, reason } => {
                let from = self.severity.unwrap_or(Severity::Medium);
                let reason = values::single_line("reason", &reason, TITLE_MAX)?;
                if from == severity {
                    return Err(TicketError::SameSeverity(severity));
                }
                TicketEvent::SeverityChanged {
                    from,
                    to: severity,
                    reason,
                    by,
                    at,
                }
            }
            Command::Comment { body } => {
                let body = values::free_text("body", &body, TEXT_MAX)?;
                if body.trim().is_empty() {
                    return Err(TicketError::validation("body", "must not be empty"));
                }
                TicketEvent::CommentAdded {
                    comment_id: Uuid::new_v4(),
                    body,
                    by,
                    at,
                }
            }
            Command::Tag { tags } => {
                let new: Vec<String> = values::tags(&tags)?
                    .into_iter()
                    .filter(|t| !self.tags.contains(t))
                    .collect();
                if new.is_empty() {
                    return Ok(vec![]);
                }
                if self.tags.len() + new.len() > values::TAGS_MAX {
                    return Err(TicketError::validation(
                        "tags",
                        format!("a ticket holds at most {} tags", values::TAGS_MAX),
                    ));
                }
                TicketEvent::TagsAdded { tags: new, by, at }
            }
            Command::Untag { tags } => {
                let gone: Vec<String> = values::tags(&tags)?
                    .into_iter()
                    .filter(|t| self.tags.contains(t))
                    .collect();
                if gone.is_empty() {
                    return Ok(vec![]);
                }
                TicketEvent::TagsRemoved { tags: gone, by, at }
            }
            Command::AddObservable { kind, value } => {
                let value = values::observable(kind, &value)?;
                if self
                    .observables
                    .iter()
                    .any(|o| o.kind == kind && o.value == value)
                {
                    return Ok(vec![]);
                }
                TicketEvent::ObservableAdded {
                    kind,
                    value,
                    by,
                    at,
                }
            }
            ref c @ Command::CorrelateAlerts(ref batch) => {
                if !status.is_open() {
                    return Err(Self::refuse(c, status));
                }
                if batch.count == 0 {
                    return Err(TicketError::validation("count", "must be at least 1"));
                }
                if batch.first_seen > batch.last_seen {
                    return Err(TicketError::validation(
                        "first_seen",
                        "must not be after last_seen",
                    ));
                }
                let mut batch = batch.clone();
                // Keep the newest samples, as apply does across batches.
                let skip = batch.samples.len().saturating_sub(ALERT_SAMPLES_MAX);
                batch.samples = batch.samples[skip..]
                    .iter()
                    .map(|s| bounded_sample(s))
                    .collect();
                TicketEvent::AlertsCorrelated { batch, by, at }
            }
            Command::RecordSiemUpdate(update) => {
                let incident_id =
                    values::single_line("incident_id", &update.incident_id, TITLE_MAX)?;
                let status_text = update.status.as_deref().map(strip_controls);
                let active = status_text
                    .as_deref()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case("active"));
                let recorded = TicketEvent::SiemIncidentUpdated {
                    incident_id: incident_id.clone(),
                    status: status_text,
                    repeat_count: update.repeat_count,
                    raw: update.raw.map(|r| bounded_sample(&r)),
                    by: by.clone(),
                    at,
                };
                // The SIEM says a resolved incident is still happening.
                if active && status == Status::Resolved {
                    return Ok(vec![
                        recorded,
                        TicketEvent::TicketReopened {
                            from: status,
                            reason: format!("the SIEM reports incident {incident_id} active again"),
                            previous_resolution: self.resolution,
                            by,
                            at,
                        },
                    ]);
                }
                recorded
            }
        };
        Ok(vec![event])
    }
}

/// Machine input may hold anything; events may not hold NUL (`jsonb`).
fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A raw sample as stored: controls stripped, at most `ALERT_SAMPLE_CHARS`.
fn bounded_sample(s: &str) -> String {
    strip_controls(s).chars().take(ALERT_SAMPLE_CHARS).collect()
}

fn sanitize_origin(o: AlertOrigin) -> AlertOrigin {
    let clean = |v: Option<String>| v.map(|s| strip_controls(&s));
    AlertOrigin {
        vendor: clean(o.vendor),
        product: clean(o.product),
        rule_name: clean(o.rule_name),
        fingerprint: clean(o.fingerprint),
        event_time: o.event_time,
        raw: o.raw.map(|r| bounded_sample(&r)),
        incident_id: clean(o.incident_id),
    }
}

impl Aggregate for Ticket {
    const TYPE: &'static str = "Ticket";
    type Command = TicketCommand;
    type Event = TicketEvent;
    type Error = TicketError;
    type Services = Arc<dyn TicketServices>;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services.as_ref()).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.version += 1;
        let at = event.at();
        let previous_update = self.updated_at;
        self.updated_at = Some(at);
        match event {
            TicketEvent::TicketOpened {
                ticket_id,
                number,
                title,
                description,
                severity,
                source,
                source_ip,
                destination_ip,
                tags,
                origin,
                source_asset,
                destination_asset,
                ..
            } => {
                self.source_asset = source_asset;
                self.destination_asset = destination_asset;
                self.id = Some(ticket_id);
                self.number = Some(number);
                self.title = title;
                self.description = description;
                self.status = Some(Status::New);
                self.severity = Some(severity);
                self.source = Some(source);
                self.source_ip = source_ip;
                self.destination_ip = destination_ip;
                self.tags = tags.into_iter().collect();
                if origin.is_some() {
                    self.alert_count = 1;
                    self.first_seen = origin.as_ref().and_then(|o| o.event_time).or(Some(at));
                    self.last_seen = self.first_seen;
                    self.alert_samples = origin.iter().filter_map(|o| o.raw.clone()).collect();
                }
                self.origin = origin;
                self.created_at = Some(at);
            }
            TicketEvent::TicketAssigned { assignee, .. } => self.assignee = Some(assignee),
            TicketEvent::TicketUnassigned { .. } => self.assignee = None,
            TicketEvent::WorkStarted { .. } => {
                self.status = Some(Status::InProgress);
                self.acknowledged_at.get_or_insert(at);
            }
            TicketEvent::TicketPutOnHold { .. } => self.status = Some(Status::OnHold),
            TicketEvent::WorkResumed { .. } => self.status = Some(Status::InProgress),
            TicketEvent::TicketResolved {
                resolution,
                summary,
                duplicate_of,
                ..
            } => {
                self.status = Some(Status::Resolved);
                self.resolution = Some(resolution);
                self.resolution_summary = Some(summary);
                self.duplicate_of = duplicate_of;
                self.acknowledged_at.get_or_insert(at);
                self.resolved_at = Some(at);
            }
            TicketEvent::TicketClosed { .. } => self.status = Some(Status::Closed),
            TicketEvent::TicketReopened { .. } => {
                self.status = Some(Status::InProgress);
                self.resolution = None;
                self.resolution_summary = None;
                self.duplicate_of = None;
                self.resolved_at = None;
            }
            TicketEvent::SeverityChanged { to, .. } => self.severity = Some(to),
            TicketEvent::CommentAdded {
                comment_id,
                body,
                by,
                at,
            } => self.comments.push(Comment {
                id: comment_id,
                author: by,
                body,
                at,
            }),
            TicketEvent::TagsAdded { tags, .. } => self.tags.extend(tags),
            TicketEvent::TagsRemoved { tags, .. } => {
                for t in tags {
                    self.tags.remove(&t);
                }
            }
            TicketEvent::ObservableAdded { kind, value, .. } => {
                self.observables.push(Observable { kind, value })
            }
            TicketEvent::AlertsCorrelated { batch, .. } => {
                self.alert_count += batch.count;
                self.first_seen = Some(match self.first_seen {
                    Some(f) => f.min(batch.first_seen),
                    None => batch.first_seen,
                });
                self.last_seen = Some(match self.last_seen {
                    Some(l) => l.max(batch.last_seen),
                    None => batch.last_seen,
                });
                self.alert_samples.extend(batch.samples);
                let excess = self.alert_samples.len().saturating_sub(ALERT_SAMPLES_MAX);
                self.alert_samples.drain(..excess);
            }
            TicketEvent::SiemIncidentUpdated {
                repeat_count, raw, ..
            } => {
                // Recorded on a CLOSED ticket without changing it.
                if self.status == Some(Status::Closed) {
                    self.updated_at = previous_update;
                    return;
                }
                self.alert_count = match repeat_count {
                    Some(n) => self.alert_count.max(n),
                    None => self.alert_count + 1,
                };
                self.last_seen = Some(self.last_seen.map_or(at, |l| l.max(at)));
                if let Some(raw) = raw {
                    self.alert_samples.push(raw);
                    let excess = self.alert_samples.len().saturating_sub(ALERT_SAMPLES_MAX);
                    self.alert_samples.drain(..excess);
                }
            }
        }
    }
}
