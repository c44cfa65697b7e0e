//! Alerts to ticket commands.
//!
//! - An alert whose fingerprint no ticket owns opens a ticket at once (the
//!   claim is made in Postgres in the same transaction as `TicketOpened`).
//! - An alert whose fingerprint a not-yet-resolved ticket owns is added to
//!   it, batched: alerts of one fingerprint are gathered for up to the
//!   correlation window (or `batch_max` alerts) into one `CorrelateAlerts`
//!   (count, first and last seen, at most 20 raw samples), so a flood adds
//!   few events.
//! - Opening when another opener (this process or another) won the claim
//!   (`FingerprintOwned`) adds the alert to the owner instead; correlating
//!   into a ticket resolved meanwhile (409) opens a new one.
//! - SIEM incidents (keyed by incident id) are always the same ticket: a
//!   re-send is a `RecordSiemUpdate` on it, in any status.
//!
//! - Bounded work: at most `max_fingerprints` fingerprints are followed at
//!   once (each has at most one task running and one timer), and as many
//!   SIEM incidents recorded at once; alerts of a further new fingerprint or
//!   incident, and new alerts of a rule that has opened its tickets for the
//!   storm interval, go into the rule's storm ticket (`storm`), counted,
//!   never dropped.
//!
//! Exactly one ticket per fingerprint is Postgres's doing, not a lock here:
//! this map only gathers alerts of this process.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::command::{AlertBatch, AlertOrigin, OpenTicket, SiemUpdate};
use domain::ticket::ALERT_SAMPLES_MAX;
use domain::{Actor, ActorKind, Command, Source, TicketCommand, TicketError};
use platform::event_store::{
    Channel, CommandContext, CommandOutcome, StoreError, StoredResponse, TicketStore,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::metrics::{metrics, DropReason};
use crate::rules::Alert;
use crate::storm::{is_storm_key, storm_alert, Budget, StormLimits, STORM_TAG};

/// What an alert did (the webhook's `outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Opened,
    Correlated,
    Updated,
    Suppressed,
    NotAlert,
}

impl OutcomeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            OutcomeKind::Opened => "opened",
            OutcomeKind::Correlated => "correlated",
            OutcomeKind::Updated => "updated",
            OutcomeKind::Suppressed => "suppressed",
            OutcomeKind::NotAlert => "not_alert",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub ticket_id: Option<Uuid>,
    pub number: Option<String>,
    pub position: Option<String>,
}

impl Outcome {
    pub fn without_ticket(kind: OutcomeKind) -> Self {
        Outcome {
            kind,
            ticket_id: None,
            number: None,
            position: None,
        }
    }

    fn of(kind: OutcomeKind, o: &CommandOutcome) -> Self {
        Outcome {
            kind,
            ticket_id: Some(o.ticket_id),
            number: o.ticket.number.clone(),
            position: o.position.as_ref().map(|p| p.cursor()),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("the alert could not be recorded: {0}")]
pub struct CorrelateError(pub String);

pub type Reply = oneshot::Sender<Result<Outcome, CorrelateError>>;

/// Alerts of one fingerprint gathered for one `CorrelateAlerts`.
struct Buffer {
    count: u64,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    samples: VecDeque<String>,
    /// Opens a ticket if the owner turns out to be gone.
    first: Alert,
    channel: Channel,
    waiters: Vec<Reply>,
}

impl Buffer {
    fn new(alert: Alert, channel: Channel, reply: Option<Reply>) -> Self {
        let seen = alert_time(&alert);
        let mut samples = VecDeque::new();
        samples.push_back(alert.raw.clone());
        Buffer {
            count: 1,
            first_seen: seen,
            last_seen: seen,
            samples,
            first: alert,
            channel,
            waiters: reply.into_iter().collect(),
        }
    }

    fn add(&mut self, alert: &Alert, reply: Option<Reply>) {
        let seen = alert_time(alert);
        self.count += 1;
        self.first_seen = self.first_seen.min(seen);
        self.last_seen = self.last_seen.max(seen);
        self.samples.push_back(alert.raw.clone());
        while self.samples.len() > ALERT_SAMPLES_MAX {
            self.samples.pop_front();
        }
        self.waiters.extend(reply);
    }

    fn merge(&mut self, other: Buffer) {
        self.count += other.count;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.samples.extend(other.samples);
        while self.samples.len() > ALERT_SAMPLES_MAX {
            self.samples.pop_front();
        }
        self.waiters.extend(other.waiters);
    }
}

/// When an alert happened: the sender's time when sane, else now.
fn alert_time(alert: &Alert) -> DateTime<Utc> {
    let now = Utc::now();
    alert
        .event_time
        .filter(|t| (*t - now).num_days().abs() < 366)
        .unwrap_or(now)
}

#[derive(Default)]
struct Entry {
    /// The ticket that owned the fingerprint when last seen.
    owner: Option<Uuid>,
    buffer: Option<Buffer>,
    /// An open or a flush for this fingerprint is running.
    busy: bool,
    /// A flush is scheduled at the end of the window.
    timer: bool,
}

struct Inner {
    store: TicketStore,
    pending: Mutex<HashMap<String, Entry>>,
    window: Duration,
    batch_max: u64,
    max_fingerprints: usize,
    budget: Mutex<Budget>,
    /// SIEM incidents being recorded (a task each), at most `max_fingerprints`.
    incidents: Arc<tokio::sync::Semaphore>,
}

/// How the correlator gathers alerts and how much it takes on.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Alerts of one ticket are gathered this long into one event...
    pub window: Duration,
    /// ...or until this many.
    pub batch_max: u64,
    /// Fingerprints followed at once (storm entries come on top: one per
    /// rule and interval).
    pub max_fingerprints: usize,
    pub storm: StormLimits,
}

#[derive(Clone)]
pub struct Correlator {
    inner: Arc<Inner>,
}

/// Attempts at a command before the alerts are counted as lost.
const ATTEMPTS: usize = 12;

fn backoff(attempt: usize) -> Duration {
    let base = 10u64 << attempt.min(6);
    let jitter = (Uuid::new_v4().as_u128() % 10) as u64;
    Duration::from_millis(base + jitter)
}

fn context(channel: Channel) -> CommandContext {
    let command_id = Uuid::new_v4();
    CommandContext {
        actor: "ingest".into(),
        actor_kind: ActorKind::System,
        command_id,
        correlation_id: format!("ingest-{command_id}"),
        channel,
        client_addr: None,
    }
}

fn ingest_actor() -> Actor {
    Actor {
        name: "ingest".into(),
        kind: ActorKind::System,
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// "rule — source → destination" or "rule on host".
pub fn title_of(alert: &Alert) -> String {
    let single = |s: &str| s.replace(['\n', '\t', '\r'], " ");
    let rule = single(&alert.rule_name);
    let title = match (alert.source_ip, alert.destination_ip, &alert.host) {
        (Some(s), Some(d), _) => format!("{rule} — {s} → {d}"),
        (Some(s), None, Some(h)) => format!("{rule} — {s} on {}", single(h)),
        (Some(s), None, None) => format!("{rule} — from {s}"),
        (None, Some(d), _) => format!("{rule} — to {d}"),
        (None, None, Some(h)) => format!("{rule} on {}", single(h)),
        (None, None, None) => rule,
    };
    truncate(title.trim(), domain::TITLE_MAX)
}

fn open_command(alert: &Alert, channel: Channel, storm: bool) -> OpenTicket {
    let mut description = format!(
        "{} {} alert (rule '{}').",
        alert.vendor, alert.product, alert.matched_rule
    );
    if let Some(u) = &alert.user {
        description.push_str(&format!(" User: {u}."));
    }
    if let Some(h) = &alert.host {
        description.push_str(&format!(" Host: {h}."));
    }
    if !alert.message.trim().is_empty() {
        description.push_str("\n\n");
        description.push_str(&truncate(&alert.message, 4_000));
    }
    OpenTicket {
        ticket_id: Uuid::new_v4(),
        title: title_of(alert),
        description: truncate(&description, domain::TEXT_MAX),
        severity: alert.severity,
        source: match channel {
            Channel::Webhook => Source::Webhook,
            _ => Source::Syslog,
        },
        source_ip: alert.source_ip,
        destination_ip: alert.destination_ip,
        tags: if storm {
            vec![STORM_TAG.to_string()]
        } else {
            vec![]
        },
        origin: Some(AlertOrigin {
            vendor: Some(alert.vendor.clone()),
            product: Some(alert.product.clone()),
            rule_name: Some(alert.rule_name.clone()),
            fingerprint: Some(alert.fingerprint.clone()),
            event_time: alert.event_time,
            raw: Some(alert.raw.clone()),
            incident_id: if alert.keyed_by_incident {
                alert.incident_id.clone()
            } else {
                None
            },
        }),
    }
}

fn ignore(_: &CommandOutcome) -> StoredResponse {
    StoredResponse {
        status: 200,
        body: serde_json::Value::Null,
    }
}

fn retryable(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict
            | StoreError::Unavailable(_)
            | StoreError::Domain(TicketError::Lookup(_))
    )
}

/// The ticket is gone from under the fingerprint (resolved, closed, unknown).
fn ticket_gone(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Domain(TicketError::InvalidTransition { .. } | TicketError::NotFound)
    )
}

impl Correlator {
    pub fn new(store: TicketStore, limits: Limits) -> Self {
        Correlator {
            inner: Arc::new(Inner {
                store,
                pending: Mutex::new(HashMap::new()),
                window: limits.window,
                batch_max: limits.batch_max.max(1),
                max_fingerprints: limits.max_fingerprints.max(1),
                budget: Mutex::new(Budget::new(limits.storm)),
                incidents: Arc::new(tokio::sync::Semaphore::new(limits.max_fingerprints.max(1))),
            }),
        }
    }

    /// Whether `alert`'s rule may open one more ticket this interval (and
    /// takes it); storm tickets always may.
    fn may_open(&self, fp: &str, alert: &Alert) -> bool {
        if is_storm_key(fp) {
            return true;
        }
        let mut budget = self.inner.budget.lock().unwrap_or_else(|p| p.into_inner());
        budget.take(&alert.matched_rule, Utc::now())
    }

    /// Puts `b` into the storm ticket of its rule and interval: counted, and
    /// gathered like any alerts of one fingerprint.
    fn to_storm(&self, pending: &mut HashMap<String, Entry>, mut b: Buffer) {
        let limits = self
            .inner
            .budget
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .limits();
        let storm = storm_alert(&b.first, Utc::now(), limits);
        let key = storm.fingerprint.clone();
        metrics().storm_alerts.increment(b.count);
        tracing::debug!(storm = %key, count = b.count, "alerts put into the storm ticket");
        b.first = storm;
        let entry = pending.entry(key.clone()).or_default();
        match &mut entry.buffer {
            Some(existing) => existing.merge(b),
            None => entry.buffer = Some(b),
        }
        self.schedule(&key, entry);
    }

    /// `to_storm`, taking the lock.
    fn send_to_storm(&self, b: Buffer) {
        let mut pending = self.inner.pending.lock().unwrap_or_else(|p| p.into_inner());
        self.to_storm(&mut pending, b);
    }

    pub fn store(&self) -> &TicketStore {
        &self.inner.store
    }

    /// Takes an alert; never waits on the database. `reply` hears what
    /// became of it.
    pub fn submit(&self, alert: Alert, channel: Channel, reply: Option<Reply>) {
        if alert.keyed_by_incident {
            let Ok(permit) = self.inner.incidents.clone().try_acquire_owned() else {
                // As many incidents in flight as fingerprints may be
                // followed: no further task; the storm ticket counts it.
                self.send_to_storm(Buffer::new(alert, channel, reply));
                return;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let result = this.incident(&alert, channel).await;
                if let Err(e) = &result {
                    tracing::error!(error = %e, incident = ?alert.incident_id, "SIEM incident not recorded");
                    metrics().dropped(DropReason::StoreError, 1);
                }
                if let Some(r) = reply {
                    let _ = r.send(result);
                }
            });
            return;
        }
        let fp = alert.fingerprint.clone();
        let Ok(mut pending) = self.inner.pending.lock() else {
            return;
        };
        let full = pending.len() >= self.inner.max_fingerprints;
        match pending.get_mut(&fp) {
            Some(entry) => {
                match &mut entry.buffer {
                    Some(b) => b.add(&alert, reply),
                    None => entry.buffer = Some(Buffer::new(alert, channel, reply)),
                }
                self.schedule(&fp, entry);
            }
            None if full => {
                // Following as many fingerprints as it may: no task, no
                // entry for this one; its rule's storm ticket counts it.
                self.to_storm(&mut pending, Buffer::new(alert, channel, reply));
            }
            None => {
                metrics()
                    .correlation_fingerprints
                    .set((pending.len() + 1) as f64);
                pending.insert(
                    fp.clone(),
                    Entry {
                        busy: true,
                        ..Entry::default()
                    },
                );
                let this = self.clone();
                tokio::spawn(async move { this.first(fp, alert, channel, reply).await });
            }
        }
    }

    /// Alerts waiting in this process (not yet a command).
    pub fn pending_alerts(&self) -> u64 {
        self.inner
            .pending
            .lock()
            .map(|p| {
                p.values()
                    .filter_map(|e| e.buffer.as_ref().map(|b| b.count))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Flushes now when the batch is full, else at the end of the window.
    fn schedule(&self, fp: &str, entry: &mut Entry) {
        if entry.busy {
            return; // the running open or flush looks again when done
        }
        let Some(count) = entry.buffer.as_ref().map(|b| b.count) else {
            return;
        };
        if count >= self.inner.batch_max {
            entry.busy = true;
            entry.timer = false;
            let buffer = entry.buffer.take();
            let owner = entry.owner;
            let this = self.clone();
            let fp = fp.to_string();
            tokio::spawn(async move {
                if let Some(b) = buffer {
                    this.flush(&fp, owner, b).await;
                }
            });
        } else if !entry.timer {
            entry.timer = true;
            let this = self.clone();
            let fp = fp.to_string();
            let window = self.inner.window;
            tokio::spawn(async move {
                tokio::time::sleep(window).await;
                this.window_ended(&fp).await;
            });
        }
    }

    async fn window_ended(&self, fp: &str) {
        let (buffer, owner) = {
            let Ok(mut pending) = self.inner.pending.lock() else {
                return;
            };
            let Some(entry) = pending.get_mut(fp) else {
                return;
            };
            entry.timer = false;
            if entry.busy {
                return;
            }
            match entry.buffer.take() {
                Some(b) => {
                    entry.busy = true;
                    (b, entry.owner)
                }
                None => {
                    // Idle for a whole window: forget it (the owner is looked
                    // up again next time, so a resolve elsewhere is seen).
                    pending.remove(fp);
                    metrics().correlation_fingerprints.set(pending.len() as f64);
                    return;
                }
            }
        };
        self.flush(fp, owner, buffer).await;
    }

    /// The open or flush for `fp` finished: look at what came meanwhile.
    fn done(&self, fp: &str, owner: Option<Uuid>) {
        let Ok(mut pending) = self.inner.pending.lock() else {
            return;
        };
        if let Some(entry) = pending.get_mut(fp) {
            entry.busy = false;
            entry.owner = owner;
            if entry.buffer.is_some() {
                self.schedule(fp, entry);
            } else if !entry.timer {
                // Keep the owner for one window, then forget it.
                entry.timer = true;
                let this = self.clone();
                let fp = fp.to_string();
                let window = self.inner.window;
                tokio::spawn(async move {
                    tokio::time::sleep(window).await;
                    this.window_ended(&fp).await;
                });
            }
        }
    }

    /// The first alert of a fingerprint this process has not seen lately.
    async fn first(&self, fp: String, alert: Alert, channel: Channel, reply: Option<Reply>) {
        let mut reply = reply;
        let mut owner = None;
        let mut leftover = None;
        let mut stormed = false;
        let mut budgeted = false;
        for attempt in 0..ATTEMPTS {
            let found = match self.inner.store.fingerprint_owner(&fp).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %e, "fingerprint lookup failed; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            if let Some(o) = found {
                owner = Some(o);
                leftover = Some(Buffer::new(alert.clone(), channel, reply.take()));
                break;
            }
            if !budgeted {
                if !self.may_open(&fp, &alert) {
                    self.send_to_storm(Buffer::new(alert.clone(), channel, reply.take()));
                    stormed = true;
                    break;
                }
                budgeted = true;
            }
            match self.open(&alert, channel).await {
                Ok(outcome) => {
                    owner = Some(outcome.ticket_id);
                    if let Some(r) = reply.take() {
                        let _ = r.send(Ok(Outcome::of(OutcomeKind::Opened, &outcome)));
                    }
                    break;
                }
                Err(StoreError::FingerprintOwned(o)) => {
                    owner = Some(o);
                    leftover = Some(Buffer::new(alert.clone(), channel, reply.take()));
                    break;
                }
                Err(e) if retryable(&e) || attempt + 1 < ATTEMPTS => {
                    tracing::warn!(error = %e, "opening a ticket for an alert failed; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(_) => break,
            }
        }
        if owner.is_none() && leftover.is_none() && !stormed {
            tracing::error!(fingerprint = %fp, "alert lost: no ticket could be opened");
            metrics().dropped(DropReason::StoreError, 1);
            if let Some(r) = reply.take() {
                let _ = r.send(Err(CorrelateError(
                    "the ticket store is unavailable".into(),
                )));
            }
        }
        if let Some(b) = leftover {
            if let Ok(mut pending) = self.inner.pending.lock() {
                if let Some(entry) = pending.get_mut(&fp) {
                    match &mut entry.buffer {
                        Some(existing) => existing.merge(b),
                        None => entry.buffer = Some(b),
                    }
                }
            }
        }
        self.done(&fp, owner);
    }

    async fn open(&self, alert: &Alert, channel: Channel) -> Result<CommandOutcome, StoreError> {
        let open = open_command(alert, channel, is_storm_key(&alert.fingerprint));
        let id = open.ticket_id;
        let cmd = TicketCommand {
            actor: ingest_actor(),
            command: Command::Open(open),
        };
        let (outcome, _) = self
            .inner
            .store
            .execute(id, cmd, &context(channel), None, None, ignore)
            .await?;
        metrics().tickets_opened.increment(1);
        tracing::info!(ticket = %id, number = ?outcome.ticket.number, rule = %alert.rule_name, "ticket opened from an alert");
        Ok(outcome)
    }

    async fn correlate(
        &self,
        ticket: Uuid,
        count: u64,
        b: &Buffer,
    ) -> Result<CommandOutcome, StoreError> {
        let batch = AlertBatch {
            count,
            first_seen: b.first_seen,
            last_seen: b.last_seen,
            samples: b.samples.iter().cloned().collect(),
        };
        let cmd = TicketCommand {
            actor: ingest_actor(),
            command: Command::CorrelateAlerts(batch),
        };
        let (outcome, _) = self
            .inner
            .store
            .execute(ticket, cmd, &context(b.channel), None, None, ignore)
            .await?;
        let m = metrics();
        m.correlation_events.increment(1);
        m.alerts_correlated.increment(count);
        Ok(outcome)
    }

    /// One `CorrelateAlerts` for the buffer (or a new ticket for it).
    async fn flush(&self, fp: &str, owner: Option<Uuid>, mut b: Buffer) {
        let mut owner = owner;
        let mut result: Option<Outcome> = None;
        let mut budgeted = false;
        for attempt in 0..ATTEMPTS {
            if owner.is_none() && !budgeted {
                if !self.may_open(fp, &b.first) {
                    self.send_to_storm(b);
                    self.done(fp, None);
                    return;
                }
                budgeted = true;
            }
            let target = match owner {
                Some(t) => t,
                None => match self.open(&b.first, b.channel).await {
                    Ok(outcome) => {
                        owner = Some(outcome.ticket_id);
                        b.count -= 1;
                        if b.count == 0 {
                            result = Some(Outcome::of(OutcomeKind::Opened, &outcome));
                            break;
                        }
                        result = Some(Outcome::of(OutcomeKind::Opened, &outcome));
                        outcome.ticket_id
                    }
                    Err(StoreError::FingerprintOwned(o)) => {
                        owner = Some(o);
                        o
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "opening a ticket for an alert batch failed; retrying");
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                },
            };
            match self.correlate(target, b.count, &b).await {
                Ok(outcome) => {
                    let kind = if result.is_some() {
                        OutcomeKind::Opened
                    } else {
                        OutcomeKind::Correlated
                    };
                    result = Some(Outcome::of(kind, &outcome));
                    break;
                }
                Err(e) if ticket_gone(&e) => {
                    // Resolved meanwhile: its fingerprint is free; open anew.
                    owner = None;
                }
                Err(e) => {
                    if !retryable(&e) {
                        tracing::warn!(error = %e, ticket = %target, "correlating alerts failed; retrying");
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
        match result {
            Some(outcome) => {
                for w in b.waiters.drain(..) {
                    let _ = w.send(Ok(outcome.clone()));
                }
            }
            None => {
                tracing::error!(fingerprint = %fp, count = b.count, "alerts lost: could not be added to a ticket");
                metrics().dropped(DropReason::StoreError, b.count);
                for w in b.waiters.drain(..) {
                    let _ = w.send(Err(CorrelateError(
                        "the ticket store is unavailable".into(),
                    )));
                }
            }
        }
        self.done(fp, owner);
    }

    /// A SIEM incident: always the same ticket.
    async fn incident(&self, alert: &Alert, channel: Channel) -> Result<Outcome, CorrelateError> {
        let fp = &alert.fingerprint;
        let mut last_error = String::new();
        for attempt in 0..ATTEMPTS {
            let owner = match self.inner.store.fingerprint_owner(fp).await {
                Ok(o) => o,
                Err(e) => {
                    last_error = e.to_string();
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let owner = match owner {
                Some(o) => o,
                None => match self.open(alert, channel).await {
                    Ok(outcome) => return Ok(Outcome::of(OutcomeKind::Opened, &outcome)),
                    Err(StoreError::FingerprintOwned(o)) => o,
                    Err(e) => {
                        last_error = e.to_string();
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                },
            };
            let update = SiemUpdate {
                incident_id: alert.incident_id.clone().unwrap_or_default(),
                status: alert.incident_status.clone(),
                repeat_count: alert.repeat_count,
                raw: Some(alert.raw.clone()),
            };
            let cmd = TicketCommand {
                actor: ingest_actor(),
                command: Command::RecordSiemUpdate(update),
            };
            match self
                .inner
                .store
                .execute(owner, cmd, &context(channel), None, None, ignore)
                .await
            {
                Ok((outcome, _)) => {
                    metrics().siem_updates.increment(1);
                    return Ok(Outcome::of(OutcomeKind::Updated, &outcome));
                }
                Err(e) if retryable(&e) => {
                    last_error = e.to_string();
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(CorrelateError(e.to_string())),
            }
        }
        Err(CorrelateError(last_error))
    }

    /// Flushes every pending batch now (shutdown).
    pub async fn drain(&self) {
        let keys: Vec<String> = match self.inner.pending.lock() {
            Ok(p) => p.keys().cloned().collect(),
            Err(_) => return,
        };
        for fp in keys {
            self.window_ended(&fp).await;
        }
    }
}
