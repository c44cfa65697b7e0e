//! The `tickets` projection: one row per ticket with every field of the
//! contract's `Ticket` (list, detail, filters, full-text search), and the
//! per-ticket `timeline` (who did what when, one row per event).
//!
//! Events are folded in memory onto the rows a batch touches, mirroring the
//! aggregate's `apply` field by field, then written in bulk: ticket rows with
//! one `INSERT ... SELECT FROM UNNEST` for new rows (a binary `COPY` in a
//! rebuild, which writes tens of thousands at a time) and one upsert for
//! known ones, timeline rows with one binary `COPY`. A batch costs a handful
//! of round trips, not one per event.
//!
//! `search_text` holds the tags (first line), title, description, then
//! every comment and observable value; the table's generated `search`
//! column is its `to_tsvector('simple', …)`.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use cqrs_es::DomainEvent;
use domain::{Resolution, Severity, Source, Status, TicketEvent};
use platform::event_store::StoredEvent;
use platform::position::Position;
use serde_json::{json, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::error::ProjectorError;

const PROJECTION: &str = "tickets";

/// Postgres keeps microseconds: fold with what will be stored, so a value
/// read back from a row and one still in memory compare the same way.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

fn inconsistent(reason: String) -> ProjectorError {
    ProjectorError::Inconsistent {
        projection: PROJECTION,
        reason,
    }
}

/// A row of `tickets`, as the projection folds it.
#[derive(Debug, Clone)]
pub(crate) struct TicketRow {
    id: Uuid,
    number: String,
    title: String,
    description: String,
    status: Status,
    severity: Severity,
    resolution: Option<Resolution>,
    resolution_summary: Option<String>,
    duplicate_of: Option<Uuid>,
    source: Source,
    source_ip: Option<String>,
    destination_ip: Option<String>,
    rule_name: Option<String>,
    fingerprint: Option<String>,
    vendor: Option<String>,
    assignee: Option<String>,
    assignee_name: Option<String>,
    /// Sorted and unique, like the aggregate's `BTreeSet`.
    tags: Vec<String>,
    observables: Vec<Value>,
    comment_count: i32,
    alert_count: i64,
    first_seen: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    /// The CMDB assets of the destination and of the source as the ticket
    /// was opened with them (`TicketOpened`); never changed since (a later
    /// CMDB edit is not the ticket's history).
    asset: Option<Value>,
    source_asset: Option<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    version: i64,
    last_position: Position,
    /// First line: the tags (re-rendered when they change); then title,
    /// description, and every comment and observable value in event order
    /// (those only ever grow). Tags hold no line breaks (validated words),
    /// so the first line is exactly the tags.
    search_text: String,
    /// Changed since loaded or last written.
    dirty: bool,
    /// The table holds this row (it was loaded): written as an update.
    stored: bool,
    /// The model's event count when an event last touched this row.
    touched: u64,
}

fn number_n(number: &str) -> i64 {
    number
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn tags_line(tags: &[String]) -> String {
    tags.iter()
        .map(|t| t.replace(['\n', '\r'], " "))
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An asset as the event records it (`network`, `hostname`, `owner`,
/// `business_unit`, `criticality`).
fn asset_json(a: &domain::Asset) -> Option<Value> {
    serde_json::to_value(a).ok()
}

impl TicketRow {
    fn opened(id: Uuid, e: &StoredEvent) -> Option<TicketRow> {
        let TicketEvent::TicketOpened {
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
            at,
            ..
        } = &e.payload
        else {
            return None;
        };
        let at = micros(*at);
        let mut tags = tags.clone();
        tags.sort();
        tags.dedup();
        // As the aggregate: an alert-born ticket counts its first alert.
        let (alert_count, first_seen) = match origin {
            Some(o) => (1, Some(micros(o.event_time.unwrap_or(at)))),
            None => (0, None),
        };
        Some(TicketRow {
            id,
            number: number.clone(),
            title: title.clone(),
            description: description.clone(),
            status: Status::New,
            severity: *severity,
            resolution: None,
            resolution_summary: None,
            duplicate_of: None,
            source: *source,
            source_ip: source_ip.map(|ip| ip.to_string()),
            destination_ip: destination_ip.map(|ip| ip.to_string()),
            rule_name: origin.as_ref().and_then(|o| o.rule_name.clone()),
            fingerprint: origin.as_ref().and_then(|o| o.fingerprint.clone()),
            vendor: origin.as_ref().and_then(|o| o.vendor.clone()),
            assignee: None,
            assignee_name: None,
            search_text: format!("{}\n{title}\n{description}", tags_line(&tags)),
            tags,
            observables: vec![],
            comment_count: 0,
            alert_count,
            first_seen,
            last_seen: first_seen,
            asset: destination_asset.as_ref().and_then(asset_json),
            source_asset: source_asset.as_ref().and_then(asset_json),
            created_at: at,
            updated_at: at,
            acknowledged_at: None,
            resolved_at: None,
            version: count(e.sequence),
            last_position: e.position,
            dirty: true,
            stored: false,
            touched: 0,
        })
    }

    fn set_tags(&mut self, tags: Vec<String>) {
        self.tags = tags;
        let rest = self
            .search_text
            .find('\n')
            .map(|i| self.search_text[i..].to_string())
            .unwrap_or_default();
        self.search_text = format!("{}{rest}", tags_line(&self.tags));
    }

    fn append_search(&mut self, text: &str) {
        self.search_text.push('\n');
        self.search_text.push_str(text);
    }

    /// Everything but the opening, as `Ticket::apply` does it.
    fn apply(&mut self, e: &StoredEvent) {
        let at = micros(e.payload.at());
        let previous_update = self.updated_at;
        self.version = count(e.sequence);
        self.last_position = e.position;
        self.updated_at = at;
        self.dirty = true;
        match &e.payload {
            // Only ever the first event of a stream: see `TicketsModel::apply`.
            TicketEvent::TicketOpened { .. } => {}
            TicketEvent::TicketAssigned {
                assignee,
                assignee_name,
                ..
            } => {
                self.assignee = Some(assignee.clone());
                self.assignee_name = Some(assignee_name.clone());
            }
            TicketEvent::TicketUnassigned { .. } => {
                self.assignee = None;
                self.assignee_name = None;
            }
            TicketEvent::WorkStarted { .. } => {
                self.status = Status::InProgress;
                self.acknowledged_at.get_or_insert(at);
            }
            TicketEvent::TicketPutOnHold { .. } => self.status = Status::OnHold,
            TicketEvent::WorkResumed { .. } => self.status = Status::InProgress,
            TicketEvent::TicketResolved {
                resolution,
                summary,
                duplicate_of,
                ..
            } => {
                self.status = Status::Resolved;
                self.resolution = Some(*resolution);
                self.resolution_summary = Some(summary.clone());
                self.duplicate_of = *duplicate_of;
                self.acknowledged_at.get_or_insert(at);
                self.resolved_at = Some(at);
            }
            TicketEvent::TicketClosed { .. } => self.status = Status::Closed,
            TicketEvent::TicketReopened { .. } => {
                self.status = Status::InProgress;
                self.resolution = None;
                self.resolution_summary = None;
                self.duplicate_of = None;
                self.resolved_at = None;
            }
            TicketEvent::SeverityChanged { to, .. } => self.severity = *to,
            TicketEvent::CommentAdded { body, .. } => {
                self.comment_count = self.comment_count.saturating_add(1);
                self.append_search(body);
            }
            TicketEvent::TagsAdded { tags, .. } => {
                let mut all = self.tags.clone();
                all.extend(tags.iter().cloned());
                all.sort();
                all.dedup();
                self.set_tags(all);
            }
            TicketEvent::TagsRemoved { tags, .. } => {
                let kept = self
                    .tags
                    .iter()
                    .filter(|t| !tags.contains(t))
                    .cloned()
                    .collect();
                self.set_tags(kept);
            }
            TicketEvent::ObservableAdded { kind, value, .. } => {
                self.observables
                    .push(json!({"kind": kind.as_str(), "value": value}));
                self.append_search(value);
            }
            TicketEvent::AlertsCorrelated { batch, .. } => {
                self.alert_count = self.alert_count.saturating_add(count(batch.count));
                let first = micros(batch.first_seen);
                let last = micros(batch.last_seen);
                self.first_seen = Some(self.first_seen.map_or(first, |f| f.min(first)));
                self.last_seen = Some(self.last_seen.map_or(last, |l| l.max(last)));
            }
            TicketEvent::SiemIncidentUpdated { repeat_count, .. } => {
                // Recorded on a CLOSED ticket without changing it.
                if self.status == Status::Closed {
                    self.updated_at = previous_update;
                    return;
                }
                self.alert_count = match repeat_count {
                    Some(n) => self.alert_count.max(count(*n)),
                    None => self.alert_count.saturating_add(1),
                };
                self.last_seen = Some(self.last_seen.map_or(at, |l| l.max(at)));
            }
        }
    }

    fn from_row(row: &PgRow) -> Result<TicketRow, ProjectorError> {
        fn word<T: std::str::FromStr>(row: &PgRow, column: &str) -> Result<T, ProjectorError>
        where
            T::Err: std::fmt::Display,
        {
            let s: String = row.try_get(column)?;
            s.parse()
                .map_err(|e: T::Err| inconsistent(format!("column {column}: {e}")))
        }
        let resolution: Option<String> = row.try_get("resolution")?;
        let observables: Value = row.try_get("observables")?;
        let tx: String = row.try_get("last_position_tx")?;
        Ok(TicketRow {
            id: row.try_get("id")?,
            number: row.try_get("number")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            status: word(row, "status")?,
            severity: word(row, "severity")?,
            resolution: resolution
                .map(|r| r.parse())
                .transpose()
                .map_err(|e| inconsistent(format!("column resolution: {e}")))?,
            resolution_summary: row.try_get("resolution_summary")?,
            duplicate_of: row.try_get("duplicate_of")?,
            source: word(row, "source")?,
            source_ip: row.try_get("source_ip")?,
            destination_ip: row.try_get("destination_ip")?,
            rule_name: row.try_get("rule_name")?,
            fingerprint: row.try_get("fingerprint")?,
            vendor: row.try_get("vendor")?,
            assignee: row.try_get("assignee")?,
            assignee_name: row.try_get("assignee_name")?,
            tags: row.try_get("tags")?,
            observables: match observables {
                Value::Array(items) => items,
                _ => vec![],
            },
            comment_count: row.try_get("comment_count")?,
            alert_count: row.try_get("alert_count")?,
            first_seen: row.try_get("first_seen")?,
            last_seen: row.try_get("last_seen")?,
            asset: row.try_get("asset")?,
            source_asset: row.try_get("source_asset")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            acknowledged_at: row.try_get("acknowledged_at")?,
            resolved_at: row.try_get("resolved_at")?,
            version: row.try_get("version")?,
            last_position: Position::new(
                tx.parse()
                    .map_err(|e| inconsistent(format!("last_position_tx '{tx}': {e}")))?,
                row.try_get("last_position")?,
            ),
            search_text: row.try_get("search_text")?,
            dirty: false,
            stored: true,
            touched: 0,
        })
    }

    /// Rough bytes held, to bound a rebuild's cache.
    fn weight(&self) -> usize {
        256 + self.title.len()
            + self.description.len()
            + self.search_text.len()
            + self.observables.len() * 64
            + self.tags.iter().map(|t| t.len() + 24).sum::<usize>()
            + 160 * (usize::from(self.asset.is_some()) + usize::from(self.source_asset.is_some()))
    }
}

/// A timeline row waiting to be written.
struct TimelineRow {
    ticket_id: Uuid,
    sequence: i64,
    position: Position,
    event_type: String,
    actor: String,
    actor_kind: Cow<'static, str>,
    channel: Option<Cow<'static, str>>,
    at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    summary: String,
    /// JSON text of the event as today's schema has it (upcast).
    payload: String,
}

/// The event's own fields as JSON text, without the enum tag (`event_type`
/// has it). Cut from serde's `{"Variant":{...}}` text rather than built as a
/// `Value` tree: a rebuild does this a million times.
fn payload_body(event: &TicketEvent) -> String {
    let Ok(mut text) = serde_json::to_string(event) else {
        return "null".into();
    };
    // The tag is a Rust identifier, without quotes or escapes: the first
    // `":` ends it. Cut in place, without a second copy.
    let tag = format!("{{\"{}\":", event.event_type());
    if text.starts_with(&tag) && text.ends_with('}') {
        text.pop();
        text.drain(..tag.len());
    }
    text
}

/// A metadata word of a small vocabulary (actor kinds, channels): the
/// known ones shared rather than allocated for each of millions of rows.
fn metadata_word(word: Option<&str>, known: &[&'static str]) -> Option<Cow<'static, str>> {
    let word = word?;
    Some(match known.iter().find(|k| **k == word) {
        Some(k) => Cow::Borrowed(*k),
        None => Cow::Owned(word.to_string()),
    })
}

/// The tickets a batch touches, with their pending timeline rows.
#[derive(Default)]
pub(crate) struct TicketsModel {
    rows: HashMap<Uuid, TicketRow>,
    timeline: Vec<TimelineRow>,
    /// Sum of the rows' `weight`, kept as they change.
    bytes: usize,
    /// Events applied so far: the clock of `TicketRow::touched`.
    clock: u64,
}

pub(crate) fn ticket_id(e: &StoredEvent) -> Option<Uuid> {
    Uuid::parse_str(&e.ticket_id).ok()
}

const LOAD_SQL: &str = "
SELECT id, number, title, description, status, severity, resolution, resolution_summary,
       duplicate_of, source, host(source_ip) AS source_ip, host(destination_ip) AS destination_ip,
       rule_name, fingerprint, vendor, assignee, assignee_name, tags, observables, comment_count,
       alert_count, first_seen, last_seen, asset, source_asset, created_at, updated_at,
       acknowledged_at, resolved_at, version, last_position_tx::text AS last_position_tx,
       last_position, search_text
  FROM tickets WHERE id = ANY($1)";

macro_rules! insert_tickets_sql {
    () => {
        "
INSERT INTO tickets (id, number, number_n, title, description, status, severity, resolution,
       resolution_summary, duplicate_of, source, source_ip, destination_ip, rule_name, fingerprint,
       vendor, assignee, assignee_name, tags, observables, comment_count, alert_count, first_seen,
       last_seen, created_at, updated_at, acknowledged_at, resolved_at, version, last_position_tx,
       last_position, search_text, asset, source_asset)
SELECT u.id, u.number, u.number_n, u.title, u.description, u.status, u.severity, u.resolution,
       u.resolution_summary, u.duplicate_of, u.source, u.source_ip::inet, u.destination_ip::inet,
       u.rule_name, u.fingerprint, u.vendor, u.assignee, u.assignee_name,
       ARRAY(SELECT jsonb_array_elements_text(u.tags)), u.observables, u.comment_count,
       u.alert_count, u.first_seen, u.last_seen, u.created_at, u.updated_at, u.acknowledged_at,
       u.resolved_at, u.version, u.last_position_tx::xid8, u.last_position, u.search_text,
       u.asset, u.source_asset
  FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[],
              $8::text[], $9::text[], $10::uuid[], $11::text[], $12::text[], $13::text[],
              $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::jsonb[],
              $20::jsonb[], $21::int4[], $22::int8[], $23::timestamptz[], $24::timestamptz[],
              $25::timestamptz[], $26::timestamptz[], $27::timestamptz[], $28::timestamptz[],
              $29::int8[], $30::text[], $31::int8[], $32::text[], $33::jsonb[], $34::jsonb[])
       AS u(id, number, number_n, title, description, status, severity, resolution,
            resolution_summary, duplicate_of, source, source_ip, destination_ip, rule_name,
            fingerprint, vendor, assignee, assignee_name, tags, observables, comment_count,
            alert_count, first_seen, last_seen, created_at, updated_at, acknowledged_at,
            resolved_at, version, last_position_tx, last_position, search_text, asset,
            source_asset)"
    };
}

/// Ticket rows written by one statement at most.
const ROWS_PER_STATEMENT: usize = 10_000;

/// Rows the table does not hold yet: a plain insert (a conflict would mean
/// an event applied twice, and fails the batch).
const INSERT_SQL: &str = insert_tickets_sql!();

/// Rows the table holds: the same statement, as an update.
const UPSERT_SQL: &str = concat!(
    insert_tickets_sql!(),
    "
ON CONFLICT (id) DO UPDATE SET
       number = EXCLUDED.number, number_n = EXCLUDED.number_n, title = EXCLUDED.title,
       description = EXCLUDED.description, status = EXCLUDED.status,
       severity = EXCLUDED.severity, resolution = EXCLUDED.resolution,
       resolution_summary = EXCLUDED.resolution_summary, duplicate_of = EXCLUDED.duplicate_of,
       source = EXCLUDED.source, source_ip = EXCLUDED.source_ip,
       destination_ip = EXCLUDED.destination_ip, rule_name = EXCLUDED.rule_name,
       fingerprint = EXCLUDED.fingerprint, vendor = EXCLUDED.vendor,
       assignee = EXCLUDED.assignee, assignee_name = EXCLUDED.assignee_name,
       tags = EXCLUDED.tags, observables = EXCLUDED.observables,
       comment_count = EXCLUDED.comment_count, alert_count = EXCLUDED.alert_count,
       first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen,
       created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
       acknowledged_at = EXCLUDED.acknowledged_at, resolved_at = EXCLUDED.resolved_at,
       version = EXCLUDED.version, last_position_tx = EXCLUDED.last_position_tx,
       last_position = EXCLUDED.last_position, search_text = EXCLUDED.search_text,
       asset = EXCLUDED.asset, source_asset = EXCLUDED.source_asset"
);

/// Timeline rows go in with binary COPY: the cheapest way into Postgres, on
/// both sides, for a table that is only ever appended to.
const TIMELINE_COPY: &str = "COPY timeline (ticket_id, sequence, transaction_id, global_position,
       event_type, actor, actor_kind, channel, at, recorded_at, summary, payload)
  FROM STDIN WITH (FORMAT binary)";

/// Microseconds from the Unix epoch to Postgres's (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The binary COPY encoding of one row's fields (PostgreSQL docs, "COPY",
/// "Binary Format"): a field count, then each field's length and bytes.
struct CopyRow<'a>(&'a mut Vec<u8>);

impl CopyRow<'_> {
    fn start(buf: &mut Vec<u8>, fields: i16) -> CopyRow<'_> {
        buf.extend_from_slice(&fields.to_be_bytes());
        CopyRow(buf)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        // A field is far below 2 GiB: text fields are bounded by the domain.
        let len = i32::try_from(b.len()).unwrap_or(i32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(b);
        self
    }
    fn null(&mut self) -> &mut Self {
        self.0.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
    fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }
    fn int8(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    fn int4(&mut self, v: i32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    /// xid8 travels as an unsigned 64-bit integer.
    fn xid8(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    fn opt_uuid(&mut self, id: Option<Uuid>) -> &mut Self {
        match id {
            Some(id) => self.uuid(id),
            None => self.null(),
        }
    }
    fn opt_timestamptz(&mut self, t: Option<DateTime<Utc>>) -> &mut Self {
        match t {
            Some(t) => self.timestamptz(t),
            None => self.null(),
        }
    }
    fn opt_jsonb(&mut self, json: Option<&str>) -> &mut Self {
        match json {
            Some(json) => self.jsonb(json),
            None => self.null(),
        }
    }
    /// `inet`'s binary form (PostgreSQL's `inet_send`): family, prefix
    /// bits, not a cidr, address length, address. The fold holds addresses
    /// as text (as `host()` gives them back).
    fn inet(&mut self, ip: Option<&str>) -> Result<&mut Self, ProjectorError> {
        let Some(ip) = ip else {
            return Ok(self.null());
        };
        let ip: std::net::IpAddr = ip
            .parse()
            .map_err(|e| inconsistent(format!("address '{ip}': {e}")))?;
        // PGSQL_AF_INET and PGSQL_AF_INET6 (utils/inet.h), not the OS's.
        let (family, bits, v4, v6) = match ip {
            std::net::IpAddr::V4(a) => (2, 32, a.octets(), [0; 16]),
            std::net::IpAddr::V6(a) => (3, 128, [0; 4], a.octets()),
        };
        let octets: &[u8] = if family == 2 { &v4 } else { &v6 };
        self.0
            .extend_from_slice(&(4 + octets.len() as i32).to_be_bytes());
        self.0
            .extend_from_slice(&[family, bits, 0, octets.len() as u8]);
        self.0.extend_from_slice(octets);
        Ok(self)
    }
    /// A one-dimensional `text[]` without nulls (`array_send`): dimensions,
    /// no-null flag, element type `text` (oid 25), then length and lower
    /// bound 1 of the dimension, then the elements.
    fn text_array(&mut self, items: &[String]) -> &mut Self {
        let len: usize = items.iter().map(|s| 4 + s.len()).sum();
        let header = if items.is_empty() { 12 } else { 20 };
        let total = i32::try_from(header + len).unwrap_or(i32::MAX);
        self.0.extend_from_slice(&total.to_be_bytes());
        let dims: i32 = if items.is_empty() { 0 } else { 1 };
        self.0.extend_from_slice(&dims.to_be_bytes());
        self.0.extend_from_slice(&0i32.to_be_bytes());
        self.0.extend_from_slice(&25u32.to_be_bytes());
        if !items.is_empty() {
            let n = i32::try_from(items.len()).unwrap_or(i32::MAX);
            self.0.extend_from_slice(&n.to_be_bytes());
            self.0.extend_from_slice(&1i32.to_be_bytes());
            for item in items {
                self.text(item);
            }
        }
        self
    }
    fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.bytes(id.as_bytes())
    }
    fn timestamptz(&mut self, t: DateTime<Utc>) -> &mut Self {
        self.int8(t.timestamp_micros() - PG_EPOCH_MICROS)
    }
    /// jsonb's binary form: a version byte, then the JSON text.
    fn jsonb(&mut self, json: &str) -> &mut Self {
        let len = i32::try_from(json.len() + 1).unwrap_or(i32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.push(1);
        self.0.extend_from_slice(json.as_bytes());
        self
    }
}

impl TicketsModel {
    /// Tickets of `events` whose rows are not in memory.
    pub(crate) fn missing(&self, events: &[StoredEvent]) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = events
            .iter()
            .filter(|e| !matches!(e.payload, TicketEvent::TicketOpened { .. }))
            .filter_map(ticket_id)
            .filter(|id| !self.rows.contains_key(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub(crate) async fn load(
        &mut self,
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<(), ProjectorError> {
        if ids.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query(LOAD_SQL).bind(ids).fetch_all(conn).await?;
        for row in &rows {
            let mut r = TicketRow::from_row(row)?;
            r.touched = self.clock;
            self.bytes += r.weight();
            self.rows.insert(r.id, r);
        }
        Ok(())
    }

    pub(crate) fn apply(&mut self, e: &StoredEvent) -> Result<(), ProjectorError> {
        let Some(id) = ticket_id(e) else {
            // Not a ticket stream: nothing of ours to show.
            tracing::warn!(aggregate_id = %e.ticket_id, "skipping an event whose aggregate id is not a UUID");
            return Ok(());
        };
        let sequence = count(e.sequence);
        self.clock += 1;
        let clock = self.clock;
        match (self.rows.get_mut(&id), &e.payload) {
            (Some(row), _) if sequence <= row.version => {
                return Err(inconsistent(format!(
                    "ticket {id} already holds event {sequence} (version {}): refusing to apply it twice",
                    row.version
                )));
            }
            (Some(_), TicketEvent::TicketOpened { .. }) => {
                return Err(inconsistent(format!(
                    "ticket {id} opened a second time at sequence {sequence}"
                )));
            }
            (Some(row), _) => {
                let before = row.weight();
                row.apply(e);
                row.touched = clock;
                self.bytes = (self.bytes + row.weight()).saturating_sub(before);
            }
            (None, TicketEvent::TicketOpened { .. }) => {
                if let Some(mut row) = TicketRow::opened(id, e) {
                    row.touched = clock;
                    self.bytes += row.weight();
                    self.rows.insert(id, row);
                }
            }
            (None, _) => {
                // A stream that does not start with its opening cannot be
                // shown as a ticket; its timeline is still recorded.
                tracing::warn!(ticket_id = %id, sequence, "event for a ticket that was never opened");
            }
        }
        let who = e.metadata.who();
        self.timeline.push(TimelineRow {
            ticket_id: id,
            sequence,
            position: e.position,
            event_type: e.event_type.clone(),
            actor: who.actor_or(e.payload.by()).to_string(),
            actor_kind: metadata_word(who.actor_kind.as_deref(), &["user", "client", "system"])
                .unwrap_or(Cow::Borrowed("user")),
            channel: metadata_word(who.channel.as_deref(), &["ui", "api", "webhook", "syslog"]),
            at: micros(e.payload.at()),
            recorded_at: e.recorded_at,
            summary: e.payload.describe(),
            payload: payload_body(&e.payload),
        });
        Ok(())
    }

    /// Bytes held in memory.
    pub(crate) fn weight(&self) -> usize {
        self.bytes + self.timeline.len() * 256
    }

    pub(crate) fn timeline_pending(&self) -> usize {
        self.timeline.len()
    }

    /// Takes the timeline rows folded so far, to be written.
    pub(crate) fn take_timeline(&mut self) -> Option<TimelineBatch> {
        if self.timeline.is_empty() {
            None
        } else {
            Some(TimelineBatch(std::mem::take(&mut self.timeline)))
        }
    }

    /// Takes every row out of memory: the changed ones to be written, in
    /// `parts` batches of disjoint rows (written concurrently by a rebuild).
    /// Later events read the rows back from the table.
    pub(crate) fn take_rows(&mut self, parts: usize, bulk: bool) -> Vec<RowsBatch> {
        let rows: Vec<TicketRow> = self.rows.drain().map(|(_, r)| r).collect();
        self.bytes = 0;
        Self::batches(rows, parts, bulk)
    }

    /// Takes out of memory the rows no event touched in the last `idle`
    /// events, the changed ones to be written: a rebuild writes them while
    /// it goes on folding, rather than all at the end.
    pub(crate) fn take_idle_rows(&mut self, idle: u64, parts: usize) -> Vec<RowsBatch> {
        let horizon = self.clock.saturating_sub(idle);
        let ids: Vec<Uuid> = self
            .rows
            .iter()
            .filter(|(_, r)| r.touched < horizon)
            .map(|(id, _)| *id)
            .collect();
        let rows: Vec<TicketRow> = ids.iter().filter_map(|id| self.rows.remove(id)).collect();
        let gone: usize = rows.iter().map(TicketRow::weight).sum();
        self.bytes = self.bytes.saturating_sub(gone);
        Self::batches(rows, parts, true)
    }

    fn batches(rows: Vec<TicketRow>, parts: usize, bulk: bool) -> Vec<RowsBatch> {
        // Statements stay small (well within the statement timeout), and
        // at least `parts` of them can run side by side.
        let parts = parts.max(rows.len().div_ceil(ROWS_PER_STATEMENT)).max(1);
        let mut batches: Vec<RowsBatch> = (0..parts)
            .map(|_| RowsBatch {
                bulk,
                ..RowsBatch::default()
            })
            .collect();
        let dirty = rows.into_iter().filter(|r| r.dirty);
        for (i, row) in dirty.enumerate() {
            let batch = &mut batches[i % parts];
            if row.stored {
                batch.stored.push(row);
            } else {
                batch.new.push(row);
            }
        }
        batches.retain(|b| !b.new.is_empty() || !b.stored.is_empty());
        batches
    }

    /// Writes everything folded, in the caller's transaction.
    pub(crate) async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        for batch in self.take_rows(1, false) {
            batch.write(conn).await?;
        }
        if let Some(batch) = self.take_timeline() {
            batch.write(conn).await?;
        }
        Ok(())
    }
}

/// Ticket rows to write: new ones are inserted, known ones updated.
#[derive(Default)]
pub(crate) struct RowsBatch {
    new: Vec<TicketRow>,
    stored: Vec<TicketRow>,
    /// A rebuild's batch: new rows go in with binary COPY (tens of
    /// thousands at a time), not the live path's prepared insert.
    bulk: bool,
}

impl RowsBatch {
    pub(crate) async fn write(self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        if self.bulk {
            copy_rows(conn, &self.new).await?;
        } else {
            write_rows(conn, INSERT_SQL, &self.new).await?;
        }
        write_rows(conn, UPSERT_SQL, &self.stored).await
    }
}

async fn write_rows(
    conn: &mut PgConnection,
    sql: &'static str,
    rows: &[TicketRow],
) -> Result<(), ProjectorError> {
    if rows.is_empty() {
        return Ok(());
    }
    macro_rules! col {
        ($f:expr) => {
            rows.iter().map($f).collect::<Vec<_>>()
        };
    }
    sqlx::query(sql)
        .bind(col!(|r| r.id))
        .bind(col!(|r| r.number.as_str()))
        .bind(col!(|r| number_n(&r.number)))
        .bind(col!(|r| r.title.as_str()))
        .bind(col!(|r| r.description.as_str()))
        .bind(col!(|r| r.status.as_str()))
        .bind(col!(|r| r.severity.as_str()))
        .bind(col!(|r| r.resolution.map(|x| x.as_str())))
        .bind(col!(|r| r.resolution_summary.as_deref()))
        .bind(col!(|r| r.duplicate_of))
        .bind(col!(|r| r.source.as_str()))
        .bind(col!(|r| r.source_ip.as_deref()))
        .bind(col!(|r| r.destination_ip.as_deref()))
        .bind(col!(|r| r.rule_name.as_deref()))
        .bind(col!(|r| r.fingerprint.as_deref()))
        .bind(col!(|r| r.vendor.as_deref()))
        .bind(col!(|r| r.assignee.as_deref()))
        .bind(col!(|r| r.assignee_name.as_deref()))
        .bind(col!(|r| json!(r.tags)))
        .bind(col!(|r| Value::Array(r.observables.clone())))
        .bind(col!(|r| r.comment_count))
        .bind(col!(|r| r.alert_count))
        .bind(col!(|r| r.first_seen))
        .bind(col!(|r| r.last_seen))
        .bind(col!(|r| r.created_at))
        .bind(col!(|r| r.updated_at))
        .bind(col!(|r| r.acknowledged_at))
        .bind(col!(|r| r.resolved_at))
        .bind(col!(|r| r.version))
        .bind(col!(|r| r.last_position.transaction_id.to_string()))
        .bind(col!(|r| r.last_position.global_position))
        .bind(col!(|r| r.search_text.as_str()))
        .bind(col!(|r| r.asset.clone()))
        .bind(col!(|r| r.source_asset.clone()))
        .execute(conn)
        .await?;
    Ok(())
}

/// New ticket rows in bulk, with binary COPY: PostgreSQL neither plans
/// nor unnests 34 arrays, and this side encodes each value once. The same
/// columns as `INSERT_SQL`; `search` is generated as for any insert.
const TICKETS_COPY: &str = "COPY tickets (id, number, number_n, title, description, status,
       severity, resolution, resolution_summary, duplicate_of, source, source_ip, destination_ip,
       rule_name, fingerprint, vendor, assignee, assignee_name, tags, observables, comment_count,
       alert_count, first_seen, last_seen, created_at, updated_at, acknowledged_at, resolved_at,
       version, last_position_tx, last_position, search_text, asset, source_asset)
  FROM STDIN WITH (FORMAT binary)";

async fn copy_rows(conn: &mut PgConnection, rows: &[TicketRow]) -> Result<(), ProjectorError> {
    if rows.is_empty() {
        return Ok(());
    }
    let size: usize = rows.iter().map(|r| 512 + r.weight()).sum();
    let mut buf = copy_header(size);
    for r in rows {
        let observables = json_text(&r.observables);
        let asset = r.asset.as_ref().map(json_text);
        let source_asset = r.source_asset.as_ref().map(json_text);
        CopyRow::start(&mut buf, 34)
            .uuid(r.id)
            .text(&r.number)
            .int8(number_n(&r.number))
            .text(&r.title)
            .text(&r.description)
            .text(r.status.as_str())
            .text(r.severity.as_str())
            .opt_text(r.resolution.map(|x| x.as_str()))
            .opt_text(r.resolution_summary.as_deref())
            .opt_uuid(r.duplicate_of)
            .text(r.source.as_str())
            .inet(r.source_ip.as_deref())?
            .inet(r.destination_ip.as_deref())?
            .opt_text(r.rule_name.as_deref())
            .opt_text(r.fingerprint.as_deref())
            .opt_text(r.vendor.as_deref())
            .opt_text(r.assignee.as_deref())
            .opt_text(r.assignee_name.as_deref())
            .text_array(&r.tags)
            .jsonb(&observables)
            .int4(r.comment_count)
            .int8(r.alert_count)
            .opt_timestamptz(r.first_seen)
            .opt_timestamptz(r.last_seen)
            .timestamptz(r.created_at)
            .timestamptz(r.updated_at)
            .opt_timestamptz(r.acknowledged_at)
            .opt_timestamptz(r.resolved_at)
            .int8(r.version)
            .xid8(r.last_position.transaction_id)
            .int8(r.last_position.global_position)
            .text(&r.search_text)
            .opt_jsonb(asset.as_deref())
            .opt_jsonb(source_asset.as_deref());
    }
    send_copy(conn, TICKETS_COPY, buf).await
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Plain JSON values (no maps with non-string keys): always serializes.
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// A binary COPY's header, in a buffer for about `size` bytes of rows.
fn copy_header(size: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(size + 32);
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes()); // flags
    buf.extend_from_slice(&0i32.to_be_bytes()); // header extension
    buf
}

/// Ends `buf` with the trailer and sends it as `sql`'s data.
async fn send_copy(
    conn: &mut PgConnection,
    sql: &'static str,
    mut buf: Vec<u8>,
) -> Result<(), ProjectorError> {
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    let mut copy = conn.copy_in_raw(sql).await?;
    if let Err(e) = copy.send(buf).await {
        // Leave the connection usable: end the COPY before reporting.
        let _ = copy.abort("sending failed").await;
        return Err(e.into());
    }
    copy.finish().await?;
    Ok(())
}

/// Timeline rows to write.
pub(crate) struct TimelineBatch(Vec<TimelineRow>);

impl TimelineBatch {
    pub(crate) async fn write(self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let size: usize = self
            .0
            .iter()
            .map(|r| 160 + r.summary.len() + r.payload.len() + r.actor.len())
            .sum();
        let mut buf = copy_header(size);
        for r in &self.0 {
            CopyRow::start(&mut buf, 12)
                .uuid(r.ticket_id)
                .int8(r.sequence)
                .xid8(r.position.transaction_id)
                .int8(r.position.global_position)
                .text(&r.event_type)
                .text(&r.actor)
                .text(&r.actor_kind)
                .opt_text(r.channel.as_deref())
                .timestamptz(r.at)
                .timestamptz(r.recorded_at)
                .text(&r.summary)
                .jsonb(&r.payload);
        }
        send_copy(conn, TIMELINE_COPY, buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `inet_send`'s layout: a length, then family (2 for IPv4, 3 for
    /// IPv6), prefix bits, not a cidr, address length, address.
    #[test]
    fn addresses_are_encoded_as_postgres_sends_them() {
        let mut buf = Vec::new();
        CopyRow(&mut buf)
            .inet(Some("10.1.2.3"))
            .and_then(|row| row.inet(Some("2001:db8::1")))
            .and_then(|row| row.inet(None))
            .expect("valid addresses");
        let mut v6 = vec![0, 0, 0, 20, 3, 128, 0, 16];
        v6.extend_from_slice(
            &"2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        let expected: Vec<u8> = [
            vec![0, 0, 0, 8, 2, 32, 0, 4, 10, 1, 2, 3],
            v6,
            (-1i32).to_be_bytes().to_vec(),
        ]
        .concat();
        assert_eq!(buf, expected);
        assert!(CopyRow(&mut Vec::new())
            .inet(Some("not an address"))
            .is_err());
    }
}
