//! GraphQL output and input types.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, InputObject, Json, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use platform::position::Position;
use serde_json::Value;
use uuid::Uuid;

use crate::error::{QueryError, QueryResult};
use crate::events::EventRecord;
use crate::page_rows::{TicketEdges, TicketNodes};
use crate::store::{
    asset_cursor, AssetRow, FilterSpec, Keyset, OrderField, OrderSpec, ReadModels, TicketRow,
    TimelineRow,
};

/// Where a ticket is in its lifecycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Status")]
pub enum Status {
    New,
    InProgress,
    OnHold,
    Resolved,
    Closed,
}

/// The SOC's severity scale.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Severity")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// Why a ticket was resolved.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Resolution")]
pub enum Resolution {
    TruePositive,
    FalsePositive,
    Benign,
    Duplicate,
}

/// How a ticket came to be.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Source")]
pub enum Source {
    Manual,
    Webhook,
    Syslog,
}

/// Kinds of indicator attached to a ticket.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::ObservableKind")]
pub enum ObservableKind {
    Ip,
    Domain,
    Url,
    FileHash,
    UserAccount,
}

/// Roles, spelled as in the contract.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Role", rename_items = "lowercase")]
pub enum Role {
    Admin,
    Lead,
    Analyst,
    Auditor,
    Integration,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::ActorKind")]
pub enum ActorKind {
    User,
    Client,
    System,
}

/// How much a CMDB asset matters to the business.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Criticality")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

fn parse<T: std::str::FromStr>(what: &str, s: &str) -> QueryResult<T> {
    s.parse()
        .map_err(|_| QueryError::Internal(format!("read model holds unknown {what} '{s}'")))
}

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Observable {
    pub kind: ObservableKind,
    pub value: String,
}

/// A CMDB asset as the ticket was opened with it (`Ticket.asset` for the
/// destination, `Ticket.sourceAsset` for the source): what the CMDB said
/// then; a later CMDB edit does not change it (`assetFor` is the CMDB now).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq, Default)]
pub struct Asset {
    pub owner: Option<String>,
    pub hostname: Option<String>,
    /// `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    pub criticality: Option<String>,
    /// The CMDB entry's network (a host is a /32 or /128).
    pub network: Option<String>,
    pub business_unit: Option<String>,
}

impl From<domain::Asset> for Asset {
    fn from(a: domain::Asset) -> Self {
        Asset {
            owner: a.owner,
            hostname: a.hostname,
            criticality: Some(a.criticality.as_str().to_string()),
            network: Some(a.network),
            business_unit: a.business_unit,
        }
    }
}

fn asset_from(v: &Value) -> Option<Asset> {
    let obj = v.as_object()?;
    let text = |k: &str| match obj.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    Some(Asset {
        owner: text("owner"),
        hostname: text("hostname"),
        criticality: text("criticality"),
        network: text("network"),
        business_unit: text("business_unit"),
    })
}

#[derive(SimpleObject, Debug, Clone)]
pub struct TicketComment {
    pub id: Option<ID>,
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// One line of a ticket's timeline: who did what, when.
#[derive(SimpleObject, Debug, Clone)]
pub struct TimelineEntry {
    pub sequence: i64,
    pub position: String,
    #[graphql(name = "type")]
    pub event_type: String,
    pub actor: String,
    pub actor_kind: Option<String>,
    pub channel: Option<String>,
    /// When it happened (the command's clock).
    pub at: DateTime<Utc>,
    /// When the event was stored.
    pub recorded_at: DateTime<Utc>,
    pub summary: String,
    pub payload: Json<Value>,
}

impl TimelineEntry {
    fn from_row(r: TimelineRow) -> Self {
        let position = r
            .transaction_id
            .parse::<u64>()
            .map(|tx| Position::new(tx, r.global_position).cursor())
            .unwrap_or_default();
        TimelineEntry {
            sequence: r.sequence,
            position,
            event_type: r.event_type,
            actor: r.actor,
            actor_kind: Some(r.actor_kind),
            channel: r.channel,
            at: r.at,
            recorded_at: r.recorded_at,
            summary: r.summary,
            payload: Json(r.payload),
        }
    }

    fn from_event(e: &EventRecord) -> Self {
        TimelineEntry {
            sequence: e.sequence as i64,
            position: e.position.cursor(),
            event_type: e.event_type.clone(),
            actor: e.actor.clone(),
            actor_kind: e.actor_kind.clone(),
            channel: e.channel.clone(),
            at: e.event.at(),
            recorded_at: e.recorded_at,
            summary: e.event.describe(),
            payload: Json(e.payload()),
        }
    }
}

/// Where a ticket view came from.
#[derive(Debug, Clone)]
enum Detail {
    /// The `tickets` read model: timeline and comments from it too.
    ReadModel,
    /// Folded from the ticket's own events up to a point (as-of replay).
    Folded {
        /// The ticket's stream (maybe longer: `len` of it is this state's).
        events: Arc<Vec<EventRecord>>,
        len: usize,
        comments: domain::Comments,
    },
}

/// A ticket.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Ticket", complex)]
pub struct TicketView {
    #[graphql(skip)]
    pub uuid: Uuid,
    pub number: String,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub severity: Severity,
    pub resolution: Option<Resolution>,
    pub resolution_summary: Option<String>,
    #[graphql(skip)]
    pub duplicate_of_uuid: Option<Uuid>,
    pub source: Source,
    pub source_ip: Option<String>,
    pub destination_ip: Option<String>,
    pub rule_name: Option<String>,
    pub vendor: Option<String>,
    pub fingerprint: Option<String>,
    /// Username of the assignee.
    pub assignee: Option<String>,
    /// Display name of the assignee when assigned.
    pub assignee_name: Option<String>,
    pub tags: Vec<String>,
    pub observables: Vec<Observable>,
    pub comment_count: i64,
    pub alert_count: i64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// The destination's CMDB asset when the ticket opened.
    pub asset: Option<Asset>,
    /// The source's CMDB asset when the ticket opened.
    pub source_asset: Option<Asset>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Number of events applied.
    pub version: i64,
    #[graphql(skip)]
    pub last_position: Option<Position>,
    #[graphql(skip)]
    detail: Detail,
}

#[ComplexObject]
impl TicketView {
    async fn id(&self) -> ID {
        ID(self.uuid.to_string())
    }

    async fn duplicate_of(&self) -> Option<ID> {
        self.duplicate_of_uuid.map(|u| ID(u.to_string()))
    }

    /// Position of the ticket's last event (an opaque cursor).
    async fn position(&self) -> Option<String> {
        self.last_position.map(|p| p.cursor())
    }

    /// Who did what, when (oldest first): the first `first` entries (at most 1000).
    #[graphql(
        complexity = "5 + first.clamp(0, crate::schema::MAX_HISTORY_FIRST) as usize * child_complexity"
    )]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 200)] first: i32,
    ) -> async_graphql::Result<Vec<TimelineEntry>> {
        let first = first.clamp(0, crate::schema::MAX_HISTORY_FIRST);
        match &self.detail {
            Detail::ReadModel => {
                let read = ctx.data::<ReadModels>()?;
                Ok(read
                    .timeline(self.uuid, i64::from(first))
                    .await?
                    .into_iter()
                    .map(TimelineEntry::from_row)
                    .collect())
            }
            Detail::Folded { events, len, .. } => Ok(events[..*len]
                .iter()
                .take(first as usize)
                .map(TimelineEntry::from_event)
                .collect()),
        }
    }

    /// The ticket's events from the event store, oldest first (for a ticket
    /// replayed as of a point, those up to that point), a page of at most
    /// `first` (1 to 1000; without it, the first 100): pass the `cursor` of
    /// the page's last event as `after` for the next one.
    #[graphql(complexity = "10 + crate::schema::history_rows(first) * child_complexity")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Vec<TicketEventView>> {
        let (first, after) = crate::schema::history_args(first, after.as_deref())?;
        match &self.detail {
            Detail::ReadModel => {
                Ok(crate::schema::stream_page(ctx, self.uuid, first, after, false).await?)
            }
            Detail::Folded { events, len, .. } => {
                // Sequences are 1, 2, 3…: the event after `after` is at index `after`.
                let start = after
                    .map_or(0, |a| usize::try_from(a).unwrap_or(usize::MAX))
                    .min(*len);
                let end = start.saturating_add(first as usize).min(*len);
                let page: Vec<Arc<EventRecord>> =
                    events[start..end].iter().cloned().map(Arc::new).collect();
                // Every event up to the page's last: their changes fold in one pass.
                Ok(with_changes(&events[..end], page))
            }
        }
    }

    /// The alerts correlated into this ticket, oldest first: the one it was
    /// opened from, each correlated batch, each SIEM re-send. Raw messages
    /// are in `samples`, read only when asked for.
    #[graphql(complexity = "10 + child_complexity * 20")]
    async fn alerts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AlertGroup>> {
        let records: Vec<EventRecord> = match &self.detail {
            Detail::ReadModel => {
                let store = ctx.data::<platform::event_store::TicketStore>()?;
                store
                    .history(self.uuid)
                    .await
                    .map_err(QueryError::from)?
                    .into_iter()
                    .map(EventRecord::from_stored)
                    .collect::<QueryResult<_>>()?
            }
            Detail::Folded { events, len, .. } => {
                return Ok(events[..*len]
                    .iter()
                    .filter_map(AlertGroup::from_record)
                    .collect());
            }
        };
        Ok(records.iter().filter_map(AlertGroup::from_record).collect())
    }

    /// The comments, oldest first: the first `first` (at most 1000), or
    /// with `newest: true` the newest `first` (a long ticket's page shows
    /// its latest; the older ones are in its history).
    #[graphql(
        complexity = "5 + first.clamp(0, crate::schema::MAX_COMMENTS_FIRST) as usize * child_complexity"
    )]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "crate::schema::DEFAULT_COMMENTS_FIRST")] first: i32,
        #[graphql(default = false)] newest: bool,
    ) -> async_graphql::Result<Vec<TicketComment>> {
        if !(0..=crate::schema::MAX_COMMENTS_FIRST).contains(&first) {
            return Err(QueryError::bad_input(format!(
                "first must be between 0 and {}",
                crate::schema::MAX_COMMENTS_FIRST
            ))
            .into());
        }
        match &self.detail {
            Detail::ReadModel => {
                let read = ctx.data::<ReadModels>()?;
                Ok(read
                    .comments(self.uuid, i64::from(first), newest)
                    .await?
                    .into_iter()
                    .map(|r| {
                        let body = r.payload.get("CommentAdded").unwrap_or(&r.payload);
                        TicketComment {
                            id: body
                                .get("comment_id")
                                .and_then(Value::as_str)
                                .map(|s| ID(s.to_string())),
                            author: r.actor,
                            body: body
                                .get("body")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            at: r.at,
                        }
                    })
                    .collect())
            }
            Detail::Folded { comments, .. } => Ok(comments
                .since(if newest {
                    comments.len().saturating_sub(first as usize)
                } else {
                    0
                })
                .take(first as usize)
                .map(|c| TicketComment {
                    id: Some(ID(c.id.to_string())),
                    author: c.author.clone(),
                    body: c.body.clone(),
                    at: c.at,
                })
                .collect()),
        }
    }
}

/// Alerts that reached a ticket through one event.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct AlertGroup {
    /// The event's sequence in the ticket's stream.
    pub sequence: i64,
    pub recorded_at: DateTime<Utc>,
    /// How many alerts the event stands for.
    pub count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// `opened`, `correlated` or `siem_update`.
    pub kind: String,
    #[graphql(skip)]
    raw: Vec<String>,
}

#[ComplexObject]
impl AlertGroup {
    /// The raw messages kept with the event (a bounded sample of a batch).
    #[graphql(complexity = "20")]
    async fn samples(&self) -> &[String] {
        &self.raw
    }
}

impl AlertGroup {
    fn from_record(r: &EventRecord) -> Option<Self> {
        let group = |kind: &str, count: u64, first, last, raw: Vec<String>| AlertGroup {
            sequence: i64::try_from(r.sequence).unwrap_or(i64::MAX),
            recorded_at: r.recorded_at,
            count: i64::try_from(count).unwrap_or(i64::MAX),
            first_seen: first,
            last_seen: last,
            kind: kind.to_string(),
            raw,
        };
        match &r.event {
            domain::TicketEvent::TicketOpened {
                origin: Some(origin),
                at,
                ..
            } => {
                let seen = origin.event_time.unwrap_or(*at);
                Some(group(
                    "opened",
                    1,
                    seen,
                    seen,
                    origin.raw.iter().cloned().collect(),
                ))
            }
            domain::TicketEvent::AlertsCorrelated { batch, .. } => Some(group(
                "correlated",
                batch.count,
                batch.first_seen,
                batch.last_seen,
                batch.samples.clone(),
            )),
            // One re-send; the SIEM's own repeat count is in the history.
            domain::TicketEvent::SiemIncidentUpdated { raw, at, .. } => Some(group(
                "siem_update",
                1,
                *at,
                *at,
                raw.iter().cloned().collect(),
            )),
            _ => None,
        }
    }
}

impl TicketView {
    pub fn from_row(r: &TicketRow) -> QueryResult<Self> {
        Self::from_owned_row(r.clone())
    }

    /// [`TicketView::from_row`] moving the row's values instead of copying
    /// them (a list page converts 50 rows per request).
    pub fn from_owned_row(r: TicketRow) -> QueryResult<Self> {
        let observables = match r.observables {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|o| serde_json::from_value::<domain::Observable>(o).ok())
                .map(|o| Observable {
                    kind: o.kind.into(),
                    value: o.value,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(TicketView {
            uuid: r.id,
            number: r.number,
            title: r.title,
            description: r.description,
            status: parse::<domain::Status>("status", &r.status)?.into(),
            severity: parse::<domain::Severity>("severity", &r.severity)?.into(),
            resolution: r
                .resolution
                .as_deref()
                .map(|s| parse::<domain::Resolution>("resolution", s).map(Into::into))
                .transpose()?,
            resolution_summary: r.resolution_summary,
            duplicate_of_uuid: r.duplicate_of,
            source: parse::<domain::Source>("source", &r.source)?.into(),
            source_ip: r.source_ip,
            destination_ip: r.destination_ip,
            rule_name: r.rule_name,
            vendor: r.vendor,
            fingerprint: r.fingerprint,
            assignee: r.assignee,
            assignee_name: r.assignee_name,
            tags: r.tags,
            observables,
            comment_count: i64::from(r.comment_count),
            alert_count: r.alert_count,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            asset: r.asset.as_ref().and_then(asset_from),
            source_asset: r.source_asset.as_ref().and_then(asset_from),
            created_at: r.created_at,
            updated_at: r.updated_at,
            acknowledged_at: r.acknowledged_at,
            resolved_at: r.resolved_at,
            version: r.version,
            last_position: r
                .last_position_tx
                .parse::<u64>()
                .ok()
                .map(|tx| Position::new(tx, r.last_position)),
            detail: Detail::ReadModel,
        })
    }

    /// A ticket folded with the domain's `apply` from its first `events`
    /// (the same code as the write side); `None` before it was opened.
    /// The ticket after the first `len` events of its stream.
    pub fn folded(events: Arc<Vec<EventRecord>>, len: usize) -> Option<Self> {
        use cqrs_es::Aggregate;
        let len = len.min(events.len());
        let mut ticket = domain::Ticket::default();
        let mut assignee_name = None;
        for e in &events[..len] {
            match &e.event {
                domain::TicketEvent::TicketAssigned {
                    assignee_name: name,
                    ..
                } => assignee_name = Some(name.clone()),
                domain::TicketEvent::TicketUnassigned { .. } => assignee_name = None,
                _ => {}
            }
            ticket.apply(e.event.clone());
        }
        let last_position = events[..len].last().map(|e| e.position);
        Self::from_domain(ticket, assignee_name, last_position, events, len)
    }

    fn from_domain(
        t: domain::Ticket,
        assignee_name: Option<String>,
        last_position: Option<Position>,
        events: Arc<Vec<EventRecord>>,
        len: usize,
    ) -> Option<Self> {
        let (Some(id), Some(status), Some(severity), Some(source), Some(created_at)) =
            (t.id, t.status, t.severity, t.source, t.created_at)
        else {
            return None;
        };
        let origin = t.origin.clone().unwrap_or_default();
        Some(TicketView {
            uuid: id,
            number: t.number.clone().unwrap_or_default(),
            title: t.title,
            description: t.description,
            status: status.into(),
            severity: severity.into(),
            resolution: t.resolution.map(Into::into),
            resolution_summary: t.resolution_summary,
            duplicate_of_uuid: t.duplicate_of,
            source: source.into(),
            source_ip: t.source_ip.map(|ip| ip.to_string()),
            destination_ip: t.destination_ip.map(|ip| ip.to_string()),
            rule_name: origin.rule_name,
            vendor: origin.vendor,
            fingerprint: origin.fingerprint,
            assignee: t.assignee,
            assignee_name,
            tags: t.tags.into_iter().collect(),
            observables: t
                .observables
                .into_iter()
                .map(|o| Observable {
                    kind: o.kind.into(),
                    value: o.value,
                })
                .collect(),
            comment_count: t.comments.len() as i64,
            alert_count: i64::try_from(t.alert_count).unwrap_or(i64::MAX),
            first_seen: t.first_seen,
            last_seen: t.last_seen,
            asset: t.destination_asset.map(Into::into),
            source_asset: t.source_asset.map(Into::into),
            created_at,
            updated_at: t.updated_at.unwrap_or(created_at),
            acknowledged_at: t.acknowledged_at,
            resolved_at: t.resolved_at,
            version: i64::try_from(t.version).unwrap_or(i64::MAX),
            last_position,
            detail: Detail::Folded {
                events,
                len,
                comments: t.comments,
            },
        })
    }
}

/// An event of a ticket, straight from the event store.
#[derive(Debug, Clone)]
pub struct TicketEventView {
    pub record: Arc<EventRecord>,
    /// The read-model row of its ticket when the event was delivered, if known.
    pub ticket: Option<Arc<TicketRow>>,
    /// What the event changed, when the events before it were at hand;
    /// otherwise `changes` folds them from the store.
    pub changes: Option<Arc<Vec<domain::FieldChange>>>,
}

impl TicketEventView {
    /// An event without its changes computed (`changes` folds on demand).
    pub fn new(record: Arc<EventRecord>, ticket: Option<Arc<TicketRow>>) -> Self {
        TicketEventView {
            record,
            ticket,
            changes: None,
        }
    }
}

/// One field an event changed: its value before and after, as JSON, named
/// and valued as `ticketera replay` prints a ticket (null when absent).
#[derive(SimpleObject, Debug, Clone)]
pub struct FieldChange {
    /// A ticket field as `ticketera replay` names it (`status`,
    /// `severity`, `assignee`, `tags`, …). For `comments` and
    /// `alert_samples` (lists that only grow), `before` holds the entries
    /// that left and `after` those that came.
    pub field: String,
    pub before: Option<Json<Value>>,
    pub after: Option<Json<Value>>,
}

impl From<&domain::FieldChange> for FieldChange {
    fn from(c: &domain::FieldChange) -> Self {
        let json = |v: &Value| (!v.is_null()).then(|| Json(v.clone()));
        FieldChange {
            field: c.field.to_string(),
            before: json(&c.before),
            after: json(&c.after),
        }
    }
}

/// `records` of one ticket with what each changed, given every event of
/// the ticket before them in `prefix` (oldest first, the records among
/// them or after them).
pub fn with_changes<'a>(
    prefix: impl IntoIterator<Item = &'a EventRecord>,
    records: Vec<Arc<EventRecord>>,
) -> Vec<TicketEventView> {
    use cqrs_es::Aggregate;
    let wanted: std::collections::HashSet<u64> = records.iter().map(|r| r.sequence).collect();
    let mut ticket = domain::Ticket::default();
    let mut changes = std::collections::HashMap::new();
    for e in prefix {
        // Only the records' own changes are worked out; the rest is folded.
        if wanted.contains(&e.sequence) {
            changes.insert(e.sequence, Arc::new(ticket.apply_and_diff(&e.event)));
        } else {
            ticket.apply(e.event.clone());
        }
    }
    records
        .into_iter()
        .map(|record| TicketEventView {
            changes: changes.get(&record.sequence).cloned(),
            record,
            ticket: None,
        })
        .collect()
}

#[Object(name = "TicketEvent")]
impl TicketEventView {
    /// Where the event is in the global order: an opaque cursor to resume after.
    async fn position(&self) -> String {
        self.record.position.cursor()
    }
    /// The ticket's version after this event (1 for the opening).
    async fn sequence(&self) -> i64 {
        self.record.sequence as i64
    }
    /// This event's place in its ticket's stream, to pass as `after` to
    /// `ticketHistory` for the page that follows it (in either direction).
    async fn cursor(&self) -> String {
        self.record.sequence.to_string()
    }
    async fn ticket_id(&self) -> ID {
        ID(self.record.ticket_id.to_string())
    }
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.record.event_type
    }
    /// When the event was stored.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.record.recorded_at
    }
    /// When it happened (the command's clock).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.record.event.at()
    }
    async fn actor(&self) -> &str {
        &self.record.actor
    }
    async fn actor_kind(&self) -> Option<&str> {
        self.record.actor_kind.as_deref()
    }
    async fn channel(&self) -> Option<&str> {
        self.record.channel.as_deref()
    }
    /// The request id of the command that recorded the event (the
    /// `x-request-id` it came with or was given; ingest's own id for
    /// alerts): what to look for in the logs.
    async fn request_id(&self) -> Option<&str> {
        self.record.request_id.as_deref()
    }
    async fn summary(&self) -> String {
        self.record.event.describe()
    }
    /// The event's fields (today's schema).
    async fn payload(&self) -> Json<Value> {
        Json(self.record.payload())
    }
    /// Exactly what this event changed in the ticket: the ticket folded with
    /// the domain's `apply` up to the event before and after, its visible
    /// fields compared (not `version` and `updatedAt`, which every event
    /// moves). Empty for an event that changed nothing visible.
    #[graphql(complexity = "5 + child_complexity")]
    async fn changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FieldChange>> {
        if let Some(c) = &self.changes {
            return Ok(c.iter().map(FieldChange::from).collect());
        }
        let store = ctx.data::<platform::event_store::TicketStore>()?;
        let events = store
            .history_through(self.record.ticket_id, self.record.sequence)
            .await
            .map_err(QueryError::from)?;
        let mut ticket = domain::Ticket::default();
        let mut last = vec![];
        for e in &events {
            last = ticket.apply_and_diff(&e.payload);
        }
        Ok(last.iter().map(FieldChange::from).collect())
    }
    /// The ticket as the read model has it now.
    #[graphql(complexity = "5 + child_complexity")]
    async fn ticket(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TicketView>> {
        if let Some(row) = &self.ticket {
            return Ok(Some(TicketView::from_row(row)?));
        }
        let read = ctx.data::<ReadModels>()?;
        Ok(read
            .ticket_by_id(self.record.ticket_id)
            .await?
            .as_ref()
            .map(TicketView::from_row)
            .transpose()?)
    }
}

/// Filters of ticket lists and event streams; criteria combine with AND.
#[derive(InputObject, Debug, Clone, Default)]
pub struct TicketFilter {
    /// Any of these tickets.
    pub ids: Option<Vec<ID>>,
    /// Any of these statuses.
    pub status: Option<Vec<Status>>,
    /// Any of these severities.
    pub severity: Option<Vec<Severity>>,
    /// Any of these sources.
    pub source: Option<Vec<Source>>,
    /// Assigned to this username.
    pub assignee: Option<String>,
    /// true: only unassigned tickets; false: only assigned ones.
    pub unassigned: Option<bool>,
    /// Carrying this tag.
    pub tag: Option<String>,
    /// Carrying all of these tags.
    pub tags: Option<Vec<String>>,
    /// Created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Free text over title, description, comments and observables (every word must match).
    pub text: Option<String>,
    /// An IP address or observable value the ticket carries: its source or
    /// destination address, or any of its observables (exact match; an
    /// address in its canonical form, e.g. `2001:db8::1`).
    pub observable: Option<String>,
}

const FILTER_LIST_MAX: usize = 100;
const TEXT_MAX: usize = 500;

impl TicketFilter {
    pub fn spec(&self) -> QueryResult<FilterSpec> {
        fn list<T: Copy, U>(
            name: &str,
            v: &Option<Vec<T>>,
            f: impl Fn(T) -> U,
        ) -> QueryResult<Vec<U>> {
            let v = v.as_deref().unwrap_or_default();
            if v.len() > FILTER_LIST_MAX {
                return Err(QueryError::bad_input(format!(
                    "filter.{name}: at most {FILTER_LIST_MAX} values"
                )));
            }
            Ok(v.iter().map(|x| f(*x)).collect())
        }
        let ids = self.ids.as_deref().unwrap_or_default();
        if ids.len() > FILTER_LIST_MAX {
            return Err(QueryError::bad_input(format!(
                "filter.ids: at most {FILTER_LIST_MAX} values"
            )));
        }
        let ids = ids
            .iter()
            .map(|id| {
                Uuid::parse_str(id.as_str()).map_err(|_| {
                    QueryError::bad_input(format!(
                        "filter.ids: '{}' is not a ticket id",
                        id.as_str()
                    ))
                })
            })
            .collect::<QueryResult<Vec<_>>>()?;
        let mut tags: Vec<String> = self.tags.clone().unwrap_or_default();
        if let Some(t) = &self.tag {
            tags.push(t.clone());
        }
        if tags.len() > FILTER_LIST_MAX {
            return Err(QueryError::bad_input("filter.tags: too many tags"));
        }
        let tags = tags
            .iter()
            .map(|t| {
                domain::values::tag(t)
                    .map_err(|e| QueryError::bad_input(format!("filter.tag: {e}")))
            })
            .collect::<QueryResult<Vec<_>>>()?;
        let text = match self.text.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.chars().count() > TEXT_MAX => {
                return Err(QueryError::bad_input(format!(
                    "filter.text: at most {TEXT_MAX} characters"
                )))
            }
            Some(t) if t.contains('\0') => {
                return Err(QueryError::bad_input("filter.text: must not contain NUL"))
            }
            Some(t) => Some(t.to_string()),
        };
        let observable = match self.observable.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) if v.chars().count() > TEXT_MAX => {
                return Err(QueryError::bad_input(format!(
                    "filter.observable: at most {TEXT_MAX} characters"
                )))
            }
            Some(v) if v.contains('\0') => {
                return Err(QueryError::bad_input(
                    "filter.observable: must not contain NUL",
                ))
            }
            // An address is compared in its canonical form, as Postgres' host() prints it.
            Some(v) => Some(
                v.parse::<std::net::IpAddr>()
                    .map(|ip| ip.to_string())
                    .unwrap_or_else(|_| v.to_string()),
            ),
        };
        let mut spec = FilterSpec {
            ids,
            statuses: list("status", &self.status, |s| domain::Status::from(s).as_str())?,
            severities: list("severity", &self.severity, |s| {
                domain::Severity::from(s).as_str()
            })?,
            sources: list("source", &self.source, |s| domain::Source::from(s).as_str())?,
            assignee: self.assignee.as_ref().map(|a| a.trim().to_string()),
            unassigned: self.unassigned,
            tags,
            created_after: self.created_after,
            created_before: self.created_before,
            text,
            observable,
        };
        spec.statuses.dedup();
        spec.severities.dedup();
        spec.sources.dedup();
        Ok(spec)
    }
}

/// The `search` argument of `assets`: trimmed, `None` when empty.
pub fn asset_search(search: Option<&str>) -> QueryResult<Option<String>> {
    match search.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > TEXT_MAX => Err(QueryError::bad_input(format!(
            "search: at most {TEXT_MAX} characters"
        ))),
        // Postgres text cannot hold NUL: refused here, not failed there.
        Some(t) if t.contains('\0') => Err(QueryError::bad_input("search: must not contain NUL")),
        Some(t) => Ok(Some(t.to_string())),
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TicketOrderField {
    #[default]
    CreatedAt,
    UpdatedAt,
    Severity,
    Number,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    Asc,
    #[default]
    Desc,
}

#[derive(InputObject, Debug, Clone, Copy, Default)]
pub struct TicketOrder {
    #[graphql(default)]
    pub field: TicketOrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl TicketOrder {
    pub fn spec(&self) -> OrderSpec {
        OrderSpec {
            field: match self.field {
                TicketOrderField::CreatedAt => OrderField::CreatedAt,
                TicketOrderField::UpdatedAt => OrderField::UpdatedAt,
                TicketOrderField::Severity => OrderField::Severity,
                TicketOrderField::Number => OrderField::Number,
            },
            descending: self.direction == OrderDirection::Desc,
        }
    }
}

/// A page of tickets (Relay connection).
pub struct TicketConnection {
    /// Each ticket with its place in the ordering (cursors are made on demand).
    pub(crate) items: Vec<(Arc<TicketView>, Keyset)>,
    pub(crate) has_next: bool,
    pub(crate) has_previous: bool,
    pub(crate) order: OrderSpec,
    pub(crate) filter: FilterSpec,
}

impl TicketConnection {
    pub(crate) fn new(
        rows: Vec<TicketRow>,
        has_next: bool,
        has_previous: bool,
        order: OrderSpec,
        filter: FilterSpec,
    ) -> QueryResult<Self> {
        let items = rows
            .into_iter()
            .map(|r| {
                let keyset = order.keyset_of(&r);
                Ok((Arc::new(TicketView::from_owned_row(r)?), keyset))
            })
            .collect::<QueryResult<Vec<_>>>()?;
        Ok(TicketConnection {
            items,
            has_next,
            has_previous,
            order,
            filter,
        })
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

pub struct TicketEdge {
    node: Arc<TicketView>,
    keyset: Keyset,
    order: OrderSpec,
}

impl TicketEdge {
    pub(crate) fn cursor_text(&self) -> String {
        self.order.cursor(self.keyset)
    }

    pub(crate) fn ticket(&self) -> &TicketView {
        &self.node
    }
}

#[Object]
impl TicketEdge {
    async fn cursor(&self) -> String {
        self.cursor_text()
    }
    async fn node(&self) -> &TicketView {
        &self.node
    }
}

#[Object]
impl TicketConnection {
    async fn edges(&self) -> TicketEdges {
        TicketEdges(
            self.items
                .iter()
                .map(|(node, keyset)| TicketEdge {
                    node: node.clone(),
                    keyset: *keyset,
                    order: self.order,
                })
                .collect(),
        )
    }
    async fn nodes(&self) -> TicketNodes {
        TicketNodes(self.items.iter().map(|(n, _)| n.clone()).collect())
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.items.first().map(|(_, k)| self.order.cursor(*k)),
            end_cursor: self.items.last().map(|(_, k)| self.order.cursor(*k)),
        }
    }
    /// Tickets matching the filter, over all pages.
    #[graphql(complexity = 10)]
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let read = ctx.data::<ReadModels>()?;
        Ok(read.ticket_count(&self.filter).await?)
    }
}

/// An entry of the CMDB: a host (a /32 or /128) or a network, and who
/// answers for it. Tickets copy the entry that held their destination when
/// they opened (`Ticket.asset`); this is the CMDB as it is now.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "CmdbAsset")]
pub struct AssetView {
    pub id: ID,
    /// CIDR notation, e.g. `10.20.0.0/16` or `10.20.1.15/32`.
    pub network: String,
    pub hostname: Option<String>,
    pub owner: Option<String>,
    pub business_unit: Option<String>,
    pub criticality: Criticality,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssetView {
    pub fn from_row(r: AssetRow) -> QueryResult<Self> {
        Ok(AssetView {
            id: ID(r.id.to_string()),
            criticality: parse::<domain::Criticality>("criticality", &r.criticality)?.into(),
            network: r.network,
            hostname: r.hostname,
            owner: r.owner,
            business_unit: r.business_unit,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A page of CMDB assets by network (Relay connection).
pub struct AssetConnection {
    pub(crate) items: Vec<AssetView>,
    pub(crate) has_next: bool,
    pub(crate) has_previous: bool,
    pub(crate) search: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "CmdbAssetEdge")]
pub struct AssetEdge {
    pub cursor: String,
    pub node: AssetView,
}

#[Object(name = "CmdbAssetConnection")]
impl AssetConnection {
    async fn edges(&self) -> Vec<AssetEdge> {
        self.items
            .iter()
            .map(|a| AssetEdge {
                cursor: asset_cursor(&a.network),
                node: a.clone(),
            })
            .collect()
    }
    async fn nodes(&self) -> &[AssetView] {
        &self.items
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.items.first().map(|a| asset_cursor(&a.network)),
            end_cursor: self.items.last().map(|a| asset_cursor(&a.network)),
        }
    }
    /// Assets matching the search, over all pages.
    #[graphql(complexity = 10)]
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let read = ctx.data::<ReadModels>()?;
        Ok(read.asset_count(self.search.as_deref()).await?)
    }
}

/// A user, for assignee pickers.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "User")]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// The caller.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Me")]
pub struct MeView {
    /// Username, or client id for OAuth2 clients.
    pub name: String,
    pub kind: ActorKind,
    pub roles: Vec<Role>,
    pub display_name: Option<String>,
    /// Seconds since the epoch when the access token expires.
    pub token_expires_at: i64,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct StatusSeverityCount {
    pub status: Status,
    pub severity: Severity,
    pub count: i64,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct DailyStats {
    pub day: chrono::NaiveDate,
    pub opened: i64,
    pub resolved: i64,
    pub acknowledged: i64,
    /// Mean seconds from opening to first acknowledgement, of those acknowledged that day.
    pub mean_time_to_acknowledge_seconds: Option<f64>,
    /// Mean seconds from opening to resolution, of those resolved that day.
    pub mean_time_to_resolve_seconds: Option<f64>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct RuleStats {
    pub rule_name: String,
    pub tickets: i64,
    pub alerts: i64,
}

/// Dashboard figures, from the `stats` read model.
pub struct DashboardStats {
    pub(crate) open: Vec<StatusSeverityCount>,
}

#[Object]
impl DashboardStats {
    /// Tickets not yet resolved.
    async fn open_tickets(&self) -> i64 {
        self.open.iter().map(|c| c.count).sum()
    }
    /// Open tickets by status and severity.
    async fn open_by_status_severity(&self) -> &[StatusSeverityCount] {
        &self.open
    }
    /// Per day, the last `days` days (UTC), oldest first.
    async fn daily(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] days: i32,
    ) -> async_graphql::Result<Vec<DailyStats>> {
        Ok(daily(ctx, days).await?)
    }
    /// Mean time to acknowledge over the last `days` days, in seconds.
    async fn mean_time_to_acknowledge_seconds(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] days: i32,
    ) -> async_graphql::Result<Option<f64>> {
        Ok(period(ctx, days, 0).await?.mtta)
    }
    /// Mean time to resolve over the last `days` days, in seconds.
    async fn mean_time_to_resolve_seconds(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] days: i32,
    ) -> async_graphql::Result<Option<f64>> {
        Ok(period(ctx, days, 0).await?.mttr)
    }
    /// MTTA and MTTR of the last `days` days beside those of the `days`
    /// days before (the trend); per day, see `daily`.
    async fn trend(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] days: i32,
    ) -> async_graphql::Result<Trend> {
        Ok(Trend {
            current: period(ctx, days, 0).await?,
            previous: period(ctx, days, days).await?,
        })
    }
    /// Destination addresses of the most tickets opened in the last `days`
    /// days, with their CMDB hostname when they had one.
    async fn top_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
        #[graphql(default = 30)] days: i32,
    ) -> async_graphql::Result<Vec<AssetStats>> {
        let read = ctx.data::<ReadModels>()?;
        let since = Utc::now() - chrono::Duration::days(i64::from(days.clamp(1, 366)));
        Ok(read
            .top_assets(since, i64::from(first.clamp(0, 100)))
            .await?
            .into_iter()
            .map(|(ip, hostname, tickets, alerts)| AssetStats {
                destination_ip: ip,
                hostname,
                tickets,
                alerts,
            })
            .collect())
    }
    /// Dead letters (input that could not be parsed) per hour over the last
    /// `hours` hours, oldest first; hours without any are left out.
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 24)] hours: i32,
    ) -> async_graphql::Result<Vec<IntervalCount>> {
        let read = ctx.data::<ReadModels>()?;
        let since = Utc::now() - chrono::Duration::hours(i64::from(hours.clamp(1, 24 * 31)));
        Ok(read
            .dead_letters_per_hour(since)
            .await?
            .into_iter()
            .map(|(start, count)| IntervalCount { start, count })
            .collect())
    }
    /// Alerts received per hour (ingest throughput) over the last `hours`
    /// hours, oldest first, by the hour the alert occurred; hours without
    /// any are left out. A ticket opened from an alert counts one, a
    /// correlated batch its count, a SIEM incident update one.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 24)] hours: i32,
    ) -> async_graphql::Result<Vec<IntervalCount>> {
        let read = ctx.data::<ReadModels>()?;
        let since = Utc::now() - chrono::Duration::hours(i64::from(hours.clamp(1, 24 * 31)));
        Ok(read
            .alerts_per_hour(since)
            .await?
            .into_iter()
            .map(|(start, count)| IntervalCount { start, count })
            .collect())
    }
    /// Alert rules that opened the most tickets: of the tickets opened in
    /// the last `days` days, or since the beginning when `days` is not given.
    async fn top_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
        days: Option<i32>,
    ) -> async_graphql::Result<Vec<RuleStats>> {
        let read = ctx.data::<ReadModels>()?;
        let limit = i64::from(first.clamp(0, 100));
        let rules = match days {
            Some(days) => {
                let since = Utc::now() - chrono::Duration::days(i64::from(days.clamp(1, 366)));
                read.top_rules_since(since, limit).await?
            }
            None => read.top_rules(limit).await?,
        };
        Ok(rules
            .into_iter()
            .map(|(rule_name, tickets, alerts)| RuleStats {
                rule_name,
                tickets,
                alerts,
            })
            .collect())
    }
}

/// MTTA and MTTR over a period of days.
#[derive(SimpleObject, Debug, Clone)]
pub struct PeriodStats {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub opened: i64,
    pub resolved: i64,
    pub mtta: Option<f64>,
    pub mttr: Option<f64>,
}

/// A period beside the one before it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Trend {
    pub current: PeriodStats,
    pub previous: PeriodStats,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AssetStats {
    pub destination_ip: String,
    pub hostname: Option<String>,
    pub tickets: i64,
    pub alerts: i64,
}

/// A count in the hour (or interval) starting at `start`.
#[derive(SimpleObject, Debug, Clone)]
pub struct IntervalCount {
    pub start: DateTime<Utc>,
    pub count: i64,
}

/// The `days` UTC days ending `back` days before today, from the daily
/// counters: means weighted by each day's count.
async fn period(ctx: &Context<'_>, days: i32, back: i32) -> QueryResult<PeriodStats> {
    let read = ctx
        .data::<ReadModels>()
        .map_err(|_| QueryError::Internal("no read models in context".into()))?;
    let days = days.clamp(1, 366);
    let back = back.clamp(0, 366);
    let today = Utc::now().date_naive();
    let to = today - chrono::Duration::days(i64::from(back));
    let from = to - chrono::Duration::days(i64::from(days - 1));
    let rows: Vec<_> = read
        .daily(from)
        .await?
        .into_iter()
        .filter(|d| d.day <= to)
        .collect();
    let sum = |f: fn(&crate::store::DailyRow) -> i64| rows.iter().map(f).sum::<i64>();
    let (acknowledged, resolved) = (sum(|d| d.acknowledged), sum(|d| d.resolved));
    let ack: f64 = rows.iter().map(|d| d.ack_seconds_sum).sum();
    let res: f64 = rows.iter().map(|d| d.resolve_seconds_sum).sum();
    Ok(PeriodStats {
        from,
        to,
        opened: sum(|d| d.opened),
        resolved,
        mtta: (acknowledged > 0).then(|| ack / acknowledged as f64),
        mttr: (resolved > 0).then(|| res / resolved as f64),
    })
}

async fn daily(ctx: &Context<'_>, days: i32) -> QueryResult<Vec<DailyStats>> {
    let read = ctx
        .data::<ReadModels>()
        .map_err(|_| QueryError::Internal("no read models in context".into()))?;
    let days = days.clamp(1, 366);
    let since = (Utc::now() - chrono::Duration::days(i64::from(days - 1))).date_naive();
    Ok(read
        .daily(since)
        .await?
        .into_iter()
        .map(|d| DailyStats {
            day: d.day,
            opened: d.opened,
            resolved: d.resolved,
            acknowledged: d.acknowledged,
            mean_time_to_acknowledge_seconds: (d.acknowledged > 0)
                .then(|| d.ack_seconds_sum / d.acknowledged as f64),
            mean_time_to_resolve_seconds: (d.resolved > 0)
                .then(|| d.resolve_seconds_sum / d.resolved as f64),
        })
        .collect())
}

impl DashboardStats {
    pub(crate) async fn load(read: &ReadModels) -> QueryResult<Self> {
        let open = read
            .open_by_status_severity()
            .await?
            .into_iter()
            .map(|(status, severity, count)| {
                Ok(StatusSeverityCount {
                    status: parse::<domain::Status>("status", &status)?.into(),
                    severity: parse::<domain::Severity>("severity", &severity)?.into(),
                    count,
                })
            })
            .collect::<QueryResult<Vec<_>>>()?;
        Ok(DashboardStats { open })
    }
}
