//! Read-model access: the `tickets` projection (list, detail, timeline),
//! the `stats` projection, and the CMDB's `assets` table (kept by the ingest
//! admin routes, read here as it is). Nothing here reads the event store.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use platform::position::Position;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::error::{QueryError, QueryResult};

/// A row of `rm_tickets.tickets`, as the projector wrote it.
#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: Uuid,
    pub number: String,
    pub number_n: i64,
    pub title: String,
    pub description: String,
    pub status: String,
    pub severity: String,
    pub resolution: Option<String>,
    pub resolution_summary: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub source: String,
    pub source_ip: Option<String>,
    pub destination_ip: Option<String>,
    pub rule_name: Option<String>,
    pub fingerprint: Option<String>,
    pub vendor: Option<String>,
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    pub tags: Vec<String>,
    pub observables: Value,
    pub comment_count: i32,
    pub alert_count: i64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub asset: Option<Value>,
    pub source_asset: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub last_position_tx: String,
    pub last_position: i64,
}

/// The columns `TicketRow` reads (inet and xid8 as text: no extra sqlx features).
pub const TICKET_COLUMNS: &str = "id, number, number_n, title, description, status, severity,
    resolution, resolution_summary, duplicate_of, source,
    host(source_ip) AS source_ip, host(destination_ip) AS destination_ip,
    rule_name, fingerprint, vendor, assignee, assignee_name, tags, observables,
    comment_count, alert_count, first_seen, last_seen, asset, source_asset, created_at, updated_at,
    acknowledged_at, resolved_at, version,
    last_position_tx::text AS last_position_tx, last_position";

/// Columns of [`TICKET_COLUMNS`] a page reads only when a selected field
/// needs them: the column, the `Ticket` field that shows it, and the
/// constant of the same type that stands in for it otherwise. A queue page
/// asks for a few fields; fetching and decoding every description, tag
/// array and CMDB document of its 51 rows was a third of its SQL time.
const OPTIONAL_COLUMNS: [(&str, &str, &str); 12] = [
    ("description", "description", "''::text"),
    ("resolution_summary", "resolutionSummary", "NULL::text"),
    ("source_ip", "sourceIp", "NULL::text"),
    ("destination_ip", "destinationIp", "NULL::text"),
    ("rule_name", "ruleName", "NULL::text"),
    ("fingerprint", "fingerprint", "NULL::text"),
    ("vendor", "vendor", "NULL::text"),
    ("assignee_name", "assigneeName", "NULL::text"),
    ("tags", "tags", "'{}'::text[]"),
    ("observables", "observables", "'[]'::jsonb"),
    ("asset", "asset", "NULL::jsonb"),
    ("source_asset", "sourceAsset", "NULL::jsonb"),
];

/// Which of the [`OPTIONAL_COLUMNS`] a page fetches (bit `i`: the `i`th).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketColumns(u16);

impl TicketColumns {
    /// Every column: a row that any field may read.
    pub const ALL: TicketColumns = TicketColumns((1 << OPTIONAL_COLUMNS.len()) - 1);

    /// The columns the fields for which `selected` says yes read.
    pub fn read_by(selected: impl Fn(&str) -> bool) -> TicketColumns {
        let mut bits = 0u16;
        for (i, (_, field, _)) in OPTIONAL_COLUMNS.iter().enumerate() {
            if selected(field) {
                bits |= 1 << i;
            }
        }
        TicketColumns(bits)
    }

    /// [`TICKET_COLUMNS`] with a stand-in for each column not fetched, in
    /// the same positions (`TicketRow` reads by position).
    fn select_list(self) -> String {
        if self == Self::ALL {
            return TICKET_COLUMNS.to_string();
        }
        let mut list = String::with_capacity(TICKET_COLUMNS.len());
        for (n, (expression, name, optional)) in ticket_columns().iter().enumerate() {
            if n > 0 {
                list.push_str(", ");
            }
            match *optional {
                Some(i) if self.0 & (1 << i) == 0 => {
                    list.push_str(OPTIONAL_COLUMNS[i].2);
                    list.push_str(" AS ");
                    list.push_str(name);
                }
                _ => list.push_str(expression),
            }
        }
        list
    }
}

/// [`TICKET_COLUMNS`] split once: each column's expression, its name, and
/// its index in [`OPTIONAL_COLUMNS`] when it has one.
fn ticket_columns() -> &'static [(&'static str, &'static str, Option<usize>)] {
    static COLUMNS: OnceLock<Vec<(&str, &str, Option<usize>)>> = OnceLock::new();
    COLUMNS.get_or_init(|| {
        TICKET_COLUMNS
            .split(',')
            .map(|expression| {
                let expression = expression.trim();
                let name = expression.split_whitespace().last().unwrap_or_default();
                let optional = OPTIONAL_COLUMNS
                    .iter()
                    .position(|(column, _, _)| *column == name);
                (expression, name, optional)
            })
            .collect()
    })
}

/// `FromRow` reading the columns by position, in the order the fields are
/// listed (struct fields initialize in source order), and the list of the
/// fields' names for the test that holds it equal to [`TICKET_COLUMNS`]:
/// looking each column up by name was a tenth of a 50-row page. Without
/// sqlx's check of each value's type against the field's (cloning and
/// comparing type descriptors for every value of every row): the columns
/// are ours, typed in `TICKET_COLUMNS` and its stand-ins, and every query
/// test reads them.
macro_rules! from_row_by_position {
    ($row_type:ident { $($field:ident),* $(,)? }) => {
        impl<'r> sqlx::FromRow<'r, PgRow> for $row_type {
            fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
                let mut column = 0usize..;
                Ok($row_type {
                    $($field: row.try_get_unchecked(column.next().unwrap_or_default())?,)*
                })
            }
        }

        #[cfg(test)]
        const TICKET_ROW_FIELDS: &[&str] = &[$(stringify!($field)),*];
    };
}

from_row_by_position!(TicketRow {
    id,
    number,
    number_n,
    title,
    description,
    status,
    severity,
    resolution,
    resolution_summary,
    duplicate_of,
    source,
    source_ip,
    destination_ip,
    rule_name,
    fingerprint,
    vendor,
    assignee,
    assignee_name,
    tags,
    observables,
    comment_count,
    alert_count,
    first_seen,
    last_seen,
    asset,
    source_asset,
    created_at,
    updated_at,
    acknowledged_at,
    resolved_at,
    version,
    last_position_tx,
    last_position,
});

/// The severity scale as a rank, for ordering (text order would be wrong).
pub const SEVERITY_RANK: &str = "(CASE severity WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 \
     WHEN 'HIGH' THEN 3 WHEN 'CRITICAL' THEN 4 ELSE 0 END)";

/// A validated ticket filter (see `types::TicketFilter`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterSpec {
    pub ids: Vec<Uuid>,
    pub statuses: Vec<&'static str>,
    pub severities: Vec<&'static str>,
    pub sources: Vec<&'static str>,
    pub assignee: Option<String>,
    pub unassigned: Option<bool>,
    /// All of these tags.
    pub tags: Vec<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub text: Option<String>,
    /// An address or observable value the ticket carries (source or
    /// destination address, or any observable), compared exactly.
    pub observable: Option<String>,
}

impl FilterSpec {
    pub fn is_empty(&self) -> bool {
        *self == FilterSpec::default()
    }

    /// Whether a row matches every structured criterion (all but `text`,
    /// which only Postgres' text search can decide).
    pub fn matches_structured(&self, row: &TicketRow) -> bool {
        (self.ids.is_empty() || self.ids.contains(&row.id))
            && (self.statuses.is_empty() || self.statuses.contains(&row.status.as_str()))
            && (self.severities.is_empty() || self.severities.contains(&row.severity.as_str()))
            && (self.sources.is_empty() || self.sources.contains(&row.source.as_str()))
            && self
                .assignee
                .as_ref()
                .is_none_or(|a| row.assignee.as_deref() == Some(a.as_str()))
            && self.unassigned.is_none_or(|u| u == row.assignee.is_none())
            && self.tags.iter().all(|t| row.tags.contains(t))
            && self.created_after.is_none_or(|t| row.created_at >= t)
            && self.created_before.is_none_or(|t| row.created_at < t)
            && self.observable.as_deref().is_none_or(|v| carries(row, v))
    }

    /// Appends ` AND …` for every criterion.
    pub fn push_where(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        fn text_list(qb: &mut QueryBuilder<'_, Postgres>, column: &str, values: &[&'static str]) {
            match values {
                [] => {}
                // Plain equality lets the planner use the index order.
                [one] => {
                    qb.push(format!(" AND {column} = "));
                    qb.push_bind(*one);
                }
                many => {
                    qb.push(format!(" AND {column} = ANY("));
                    qb.push_bind(many.iter().map(|s| s.to_string()).collect::<Vec<_>>());
                    qb.push(")");
                }
            }
        }
        match self.ids.as_slice() {
            [] => {}
            [one] => {
                qb.push(" AND id = ");
                qb.push_bind(*one);
            }
            many => {
                qb.push(" AND id = ANY(");
                qb.push_bind(many.to_vec());
                qb.push(")");
            }
        }
        text_list(qb, "status", &self.statuses);
        text_list(qb, "severity", &self.severities);
        text_list(qb, "source", &self.sources);
        if let Some(a) = &self.assignee {
            qb.push(" AND assignee = ");
            qb.push_bind(a.clone());
        }
        match self.unassigned {
            Some(true) => {
                qb.push(" AND assignee IS NULL");
            }
            Some(false) => {
                qb.push(" AND assignee IS NOT NULL");
            }
            None => {}
        }
        if !self.tags.is_empty() {
            qb.push(" AND tags @> ");
            qb.push_bind(self.tags.clone());
        }
        if let Some(t) = self.created_after {
            qb.push(" AND created_at >= ");
            qb.push_bind(t);
        }
        if let Some(t) = self.created_before {
            qb.push(" AND created_at < ");
            qb.push_bind(t);
        }
        if let Some(v) = &self.observable {
            qb.push(" AND (host(source_ip) = ");
            qb.push_bind(v.clone());
            qb.push(" OR host(destination_ip) = ");
            qb.push_bind(v.clone());
            qb.push(" OR observables @> jsonb_build_array(jsonb_build_object('value', ");
            qb.push_bind(v.clone());
            qb.push("::text)))");
        }
        if let Some(text) = &self.text {
            qb.push(" AND search @@ plainto_tsquery('simple', ");
            qb.push_bind(text.clone());
            qb.push(")");
        }
    }
}

/// Whether `row` carries `value` as an address or an observable: the same
/// test as the SQL of `push_where`, for rows the hub already holds.
fn carries(row: &TicketRow, value: &str) -> bool {
    row.source_ip.as_deref() == Some(value)
        || row.destination_ip.as_deref() == Some(value)
        || row.observables.as_array().is_some_and(|items| {
            items
                .iter()
                .any(|o| o.get("value").and_then(Value::as_str) == Some(value))
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    CreatedAt,
    UpdatedAt,
    Severity,
    Number,
}

impl OrderField {
    fn code(self) -> char {
        match self {
            OrderField::CreatedAt => 'c',
            OrderField::UpdatedAt => 'u',
            OrderField::Severity => 's',
            OrderField::Number => 'n',
        }
    }
    fn expr(self) -> &'static str {
        match self {
            OrderField::CreatedAt => "created_at",
            OrderField::UpdatedAt => "updated_at",
            OrderField::Severity => SEVERITY_RANK,
            OrderField::Number => "number_n",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderSpec {
    pub field: OrderField,
    pub descending: bool,
}

impl Default for OrderSpec {
    fn default() -> Self {
        OrderSpec {
            field: OrderField::CreatedAt,
            descending: true,
        }
    }
}

/// Where a page starts: the sort key and id of the last row seen. Opaque to
/// clients; bound to the ordering it was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    pub key: i64,
    pub id: Uuid,
}

const CURSOR_PREFIX: &str = "k1_";

impl OrderSpec {
    /// Where `row` is in this ordering.
    pub fn keyset_of(&self, row: &TicketRow) -> Keyset {
        let key = match self.field {
            OrderField::CreatedAt => row.created_at.timestamp_micros(),
            OrderField::UpdatedAt => row.updated_at.timestamp_micros(),
            OrderField::Number => row.number_n,
            OrderField::Severity => severity_rank(&row.severity),
        };
        Keyset { key, id: row.id }
    }

    /// The opaque cursor of a keyset in this ordering.
    pub fn cursor(&self, k: Keyset) -> String {
        use base64::Engine;
        let dir = if self.descending { 'd' } else { 'a' };
        let raw = format!("{}{dir}:{}:{}", self.field.code(), k.key, k.id.simple());
        format!(
            "{CURSOR_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        )
    }

    pub fn cursor_of(&self, row: &TicketRow) -> String {
        self.cursor(self.keyset_of(row))
    }

    pub fn parse_cursor(&self, cursor: &str) -> QueryResult<Keyset> {
        use base64::Engine;
        let body = cursor
            .strip_prefix(CURSOR_PREFIX)
            .ok_or(QueryError::BadCursor)?;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| QueryError::BadCursor)?;
        let raw = String::from_utf8(raw).map_err(|_| QueryError::BadCursor)?;
        let mut parts = raw.splitn(3, ':');
        let (order, key, id) = match (parts.next(), parts.next(), parts.next()) {
            (Some(o), Some(k), Some(i)) => (o, k, i),
            _ => return Err(QueryError::BadCursor),
        };
        let dir = if self.descending { 'd' } else { 'a' };
        if order != format!("{}{dir}", self.field.code()) {
            return Err(QueryError::bad_input(
                "the cursor was made for another ordering",
            ));
        }
        Ok(Keyset {
            key: key.parse().map_err(|_| QueryError::BadCursor)?,
            id: Uuid::parse_str(id).map_err(|_| QueryError::BadCursor)?,
        })
    }

    fn push_after(&self, qb: &mut QueryBuilder<'_, Postgres>, after: Keyset) -> QueryResult<()> {
        let op = if self.descending { "<" } else { ">" };
        qb.push(format!(" AND ({}, id) {op} (", self.field.expr()));
        match self.field {
            OrderField::CreatedAt | OrderField::UpdatedAt => {
                let t = DateTime::<Utc>::from_timestamp_micros(after.key)
                    .ok_or(QueryError::BadCursor)?;
                qb.push_bind(t);
            }
            OrderField::Number => {
                qb.push_bind(after.key);
            }
            OrderField::Severity => {
                qb.push_bind(i32::try_from(after.key).map_err(|_| QueryError::BadCursor)?);
            }
        }
        qb.push(", ");
        qb.push_bind(after.id);
        qb.push(")");
        Ok(())
    }

    fn push_order_by(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        let dir = if self.descending { "DESC" } else { "ASC" };
        qb.push(format!(" ORDER BY {} {dir}, id {dir}", self.field.expr()));
    }
}

pub fn severity_rank(severity: &str) -> i64 {
    match severity {
        "LOW" => 1,
        "MEDIUM" => 2,
        "HIGH" => 3,
        "CRITICAL" => 4,
        _ => 0,
    }
}

/// Read-model queries.
#[derive(Clone)]
pub struct ReadModels {
    pool: PgPool,
}

impl ReadModels {
    pub fn new(pool: PgPool) -> Self {
        ReadModels { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn ticket_by_id(&self, id: Uuid) -> QueryResult<Option<TicketRow>> {
        Ok(sqlx::query_as::<_, TicketRow>(&format!(
            "SELECT {TICKET_COLUMNS} FROM rm_tickets.tickets WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn ticket_by_number(&self, number: &str) -> QueryResult<Option<TicketRow>> {
        Ok(sqlx::query_as::<_, TicketRow>(&format!(
            "SELECT {TICKET_COLUMNS} FROM rm_tickets.tickets WHERE number = $1"
        ))
        .bind(number.trim().to_uppercase())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn tickets_by_ids(&self, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, TicketRow>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query_as::<_, TicketRow>(&format!(
            "SELECT {TICKET_COLUMNS} FROM rm_tickets.tickets WHERE id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }

    /// Of `ids`, those whose ticket matches `filter` (text search included).
    pub async fn matching_ids(&self, ids: &[Uuid], filter: &FilterSpec) -> QueryResult<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut qb = QueryBuilder::new("SELECT id FROM rm_tickets.tickets WHERE id = ANY(");
        qb.push_bind(ids.to_vec());
        qb.push(")");
        filter.push_where(&mut qb);
        Ok(qb.build_query_scalar().fetch_all(&self.pool).await?)
    }

    /// One page: up to `limit + 1` rows (the extra one tells whether there is a next page).
    /// The columns outside `columns` hold their stand-ins.
    pub async fn ticket_page(
        &self,
        filter: &FilterSpec,
        order: OrderSpec,
        after: Option<Keyset>,
        limit: i64,
        columns: TicketColumns,
    ) -> QueryResult<Vec<TicketRow>> {
        let mut qb = QueryBuilder::new(format!(
            "SELECT {} FROM rm_tickets.tickets WHERE true",
            columns.select_list()
        ));
        filter.push_where(&mut qb);
        if let Some(after) = after {
            order.push_after(&mut qb, after)?;
        }
        order.push_order_by(&mut qb);
        // The page size is written into the statement, not bound: with
        // `LIMIT $n` PostgreSQL's generic plan assumes a tenth of the table
        // is wanted, so it never prefers it and plans the page again on
        // every execution (a fifth of the statement's time). It is a number
        // we bounded (`first` is 0..=MAX_FIRST), never text from a request,
        // and each size is one more prepared statement per connection.
        let rows = limit.clamp(0, i64::from(crate::schema::MAX_FIRST)) + 1;
        qb.push(format_args!(" LIMIT {rows}"));
        Ok(qb
            .build_query_as::<TicketRow>()
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn ticket_count(&self, filter: &FilterSpec) -> QueryResult<i64> {
        let mut qb = QueryBuilder::new("SELECT count(*) FROM rm_tickets.tickets WHERE true");
        filter.push_where(&mut qb);
        Ok(qb.build_query_scalar().fetch_one(&self.pool).await?)
    }

    pub async fn timeline(&self, ticket: Uuid, limit: i64) -> QueryResult<Vec<TimelineRow>> {
        Ok(sqlx::query_as::<_, TimelineRow>(
            "SELECT ticket_id, sequence, transaction_id::text AS transaction_id, global_position,
                    event_type, actor, actor_kind, channel, at, recorded_at, summary, payload
               FROM rm_tickets.timeline WHERE ticket_id = $1 ORDER BY sequence LIMIT $2",
        )
        .bind(ticket)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The first `limit` comments of the ticket (its `CommentAdded`
    /// timeline entries), oldest first.
    /// The first `limit` comments of a ticket, or its newest `limit`;
    /// oldest first either way.
    pub async fn comments(
        &self,
        ticket: Uuid,
        limit: i64,
        newest: bool,
    ) -> QueryResult<Vec<TimelineRow>> {
        let mut rows = sqlx::query_as::<_, TimelineRow>(if newest {
            NEWEST_COMMENTS
        } else {
            FIRST_COMMENTS
        })
        .bind(ticket)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if newest {
            rows.reverse();
        }
        Ok(rows)
    }

    /// A projection's checkpoint.
    pub async fn checkpoint(&self, projection: Projection) -> QueryResult<Position> {
        let (tx, pos): (String, i64) = sqlx::query_as(&format!(
            "SELECT transaction_id::text, global_position FROM {}.checkpoint",
            projection.schema()
        ))
        .fetch_one(&self.pool)
        .await?;
        parse_position(&tx, pos)
    }

    pub async fn open_by_status_severity(&self) -> QueryResult<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, severity, tickets FROM rm_stats.open_by_status_severity
              WHERE tickets <> 0 ORDER BY status, severity",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn daily(&self, since: chrono::NaiveDate) -> QueryResult<Vec<DailyRow>> {
        Ok(sqlx::query_as::<_, DailyRow>(
            "SELECT day, opened, resolved, acknowledged, ack_seconds_sum, resolve_seconds_sum
               FROM rm_stats.daily WHERE day >= $1 ORDER BY day",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Destinations of the most tickets opened since `since`.
    pub async fn top_assets(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<(String, Option<String>, i64, i64)>> {
        Ok(sqlx::query_as(TOP_ASSETS)
            .bind(since)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Dead letters per hour since `since` (the table is bounded and
    /// indexed by `received_at`).
    pub async fn dead_letters_per_hour(
        &self,
        since: DateTime<Utc>,
    ) -> QueryResult<Vec<(DateTime<Utc>, i64)>> {
        Ok(sqlx::query_as(DEAD_LETTERS_PER_HOUR)
            .bind(since)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Alerts per hour since `since` (ingest throughput, from the `stats`
    /// projection).
    pub async fn alerts_per_hour(
        &self,
        since: DateTime<Utc>,
    ) -> QueryResult<Vec<(DateTime<Utc>, i64)>> {
        Ok(sqlx::query_as(ALERTS_PER_HOUR)
            .bind(since)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Rules of the most tickets opened since `since` (on the tickets'
    /// `created_at` index, like `top_assets`).
    pub async fn top_rules_since(
        &self,
        since: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(TOP_RULES_SINCE)
            .bind(since)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Rules of the most tickets since the beginning (the `stats` projection).
    pub async fn top_rules(&self, limit: i64) -> QueryResult<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT rule_name, tickets, alerts FROM rm_stats.rules
              ORDER BY tickets DESC, alerts DESC, rule_name LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

// By the destination address, on the (created_at) index's range.
const TOP_ASSETS: &str = "SELECT host(destination_ip) AS ip, max(asset ->> 'hostname') AS hostname,
        count(*) AS tickets, sum(alert_count)::int8 AS alerts
   FROM rm_tickets.tickets
  WHERE created_at >= $1 AND destination_ip IS NOT NULL
  GROUP BY destination_ip
  ORDER BY tickets DESC, alerts DESC, ip LIMIT $2";
const TOP_RULES_SINCE: &str =
    "SELECT rule_name, count(*) AS tickets, sum(alert_count)::int8 AS alerts
   FROM rm_tickets.tickets
  WHERE created_at >= $1 AND rule_name IS NOT NULL
  GROUP BY rule_name
  ORDER BY tickets DESC, alerts DESC, rule_name LIMIT $2";
const FIRST_COMMENTS: &str =
    "SELECT ticket_id, sequence, transaction_id::text AS transaction_id, global_position,
        event_type, actor, actor_kind, channel, at, recorded_at, summary, payload
   FROM rm_tickets.timeline
  WHERE ticket_id = $1 AND event_type = 'CommentAdded'
  ORDER BY sequence LIMIT $2";
const NEWEST_COMMENTS: &str =
    "SELECT ticket_id, sequence, transaction_id::text AS transaction_id, global_position,
        event_type, actor, actor_kind, channel, at, recorded_at, summary, payload
   FROM rm_tickets.timeline
  WHERE ticket_id = $1 AND event_type = 'CommentAdded'
  ORDER BY sequence DESC LIMIT $2";
const ALERTS_PER_HOUR: &str = "SELECT hour, alerts FROM rm_stats.alerts_hourly
  WHERE hour >= date_trunc('hour', $1::timestamptz) AND alerts > 0 ORDER BY hour";
const DEAD_LETTERS_PER_HOUR: &str = "SELECT date_trunc('hour', received_at) AS hour, count(*)
   FROM dead_letters WHERE received_at >= $1 GROUP BY 1 ORDER BY 1";

pub use platform::cmdb::AssetRow;

/// One page of assets ordered by network (unique, so it is the whole sort
/// key): after `$1` when given, matching `$2` when given, `$3` rows. The
/// search is a case-insensitive substring of the text fields or the
/// network; `strpos` needs no escaping of `%` and `_`, and a CMDB is small
/// enough to scan.
const ASSET_PAGE: &str = "SELECT id, network::text AS network, hostname, owner, business_unit,
        criticality, created_at, updated_at
   FROM assets
  WHERE ($1::cidr IS NULL OR network > $1::cidr)
    AND ($2::text IS NULL
         OR strpos(lower(network::text), lower($2)) > 0
         OR strpos(lower(coalesce(hostname, '')), lower($2)) > 0
         OR strpos(lower(coalesce(owner, '')), lower($2)) > 0
         OR strpos(lower(coalesce(business_unit, '')), lower($2)) > 0)
  ORDER BY assets.network
  LIMIT $3";

const ASSET_COUNT: &str = "SELECT count(*) FROM assets
  WHERE ($1::text IS NULL
         OR strpos(lower(network::text), lower($1)) > 0
         OR strpos(lower(coalesce(hostname, '')), lower($1)) > 0
         OR strpos(lower(coalesce(owner, '')), lower($1)) > 0
         OR strpos(lower(coalesce(business_unit, '')), lower($1)) > 0)";

const ASSET_CURSOR_PREFIX: &str = "a1_";

/// The opaque cursor of an asset in the by-network order.
pub fn asset_cursor(network: &str) -> String {
    use base64::Engine;
    format!(
        "{ASSET_CURSOR_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(network)
    )
}

/// The network a cursor of `asset_cursor` holds, checked to be a CIDR
/// Postgres accepts (no host bits): a forged cursor is `BAD_CURSOR`, never
/// a failed cast.
pub fn parse_asset_cursor(cursor: &str) -> QueryResult<String> {
    use base64::Engine;
    let body = cursor
        .strip_prefix(ASSET_CURSOR_PREFIX)
        .ok_or(QueryError::BadCursor)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| QueryError::BadCursor)?;
    let text = String::from_utf8(raw).map_err(|_| QueryError::BadCursor)?;
    let net: ipnetwork::IpNetwork = text.parse().map_err(|_| QueryError::BadCursor)?;
    if net.network() != net.ip() {
        return Err(QueryError::BadCursor);
    }
    Ok(format!("{}/{}", net.network(), net.prefix()))
}

impl ReadModels {
    /// Up to `limit + 1` assets after the network `after` (the extra one
    /// tells whether there is a next page). `after` must be a valid CIDR.
    pub async fn asset_page(
        &self,
        after: Option<&str>,
        search: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<AssetRow>> {
        Ok(sqlx::query_as::<_, AssetRow>(ASSET_PAGE)
            .bind(after)
            .bind(search)
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn asset_count(&self, search: Option<&str>) -> QueryResult<i64> {
        Ok(sqlx::query_scalar(ASSET_COUNT)
            .bind(search)
            .fetch_one(&self.pool)
            .await?)
    }

    /// The asset whose network is the most specific one holding `ip`.
    pub async fn asset_for(&self, ip: std::net::IpAddr) -> QueryResult<Option<AssetRow>> {
        Ok(platform::cmdb::most_specific(&self.pool, ip).await?)
    }
}

pub fn parse_position(tx: &str, pos: i64) -> QueryResult<Position> {
    let tx = tx
        .parse::<u64>()
        .map_err(|e| QueryError::Internal(format!("transaction id '{tx}': {e}")))?;
    Ok(Position::new(tx, pos))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub ticket_id: Uuid,
    pub sequence: i64,
    pub transaction_id: String,
    pub global_position: i64,
    pub event_type: String,
    pub actor: String,
    pub actor_kind: String,
    pub channel: Option<String>,
    pub at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub summary: String,
    pub payload: Value,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyRow {
    pub day: chrono::NaiveDate,
    pub opened: i64,
    pub resolved: i64,
    pub acknowledged: i64,
    pub ack_seconds_sum: f64,
    pub resolve_seconds_sum: f64,
}

/// The projections whose checkpoints a query may wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    Tickets,
    Stats,
}

impl Projection {
    pub fn schema(self) -> &'static str {
        match self {
            Projection::Tickets => "rm_tickets",
            Projection::Stats => "rm_stats",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Projection::Tickets => "tickets",
            Projection::Stats => "stats",
        }
    }
    pub fn from_name(name: &str) -> Option<Projection> {
        match name {
            "tickets" => Some(Projection::Tickets),
            "stats" => Some(Projection::Stats),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_columns_are_in_the_order_ticket_row_reads_them() {
        let names: Vec<&str> = TICKET_COLUMNS
            .split(',')
            .map(|c| c.split_whitespace().last().unwrap_or_default())
            .collect();
        assert_eq!(names, TICKET_ROW_FIELDS);
    }

    #[test]
    fn a_page_without_optional_fields_keeps_every_column_in_place() {
        let none = TicketColumns::read_by(|_| false).select_list();
        let expressions: Vec<&str> = none.split(", ").collect();
        assert_eq!(expressions.len(), TICKET_ROW_FIELDS.len());
        for (expression, field) in expressions.iter().zip(TICKET_ROW_FIELDS) {
            assert!(expression.ends_with(field), "{expression} is not {field}");
        }
        for (column, _, stand_in) in OPTIONAL_COLUMNS {
            assert!(TICKET_ROW_FIELDS.contains(&column), "{column}");
            assert!(
                none.contains(&format!("{stand_in} AS {column}")),
                "{column}"
            );
        }
        let description = TicketColumns::read_by(|f| f == "description").select_list();
        assert!(description.contains("title, description, status"));
        assert!(description.contains("NULL::jsonb AS asset"));
        assert_eq!(
            TicketColumns::read_by(|_| true).select_list(),
            TICKET_COLUMNS
        );
    }
}
