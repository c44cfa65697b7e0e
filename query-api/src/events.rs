//! Events as the query side hands them out: read from the event store (never
//! from read models), with positions and who did it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use domain::TicketEvent;
use platform::event_store::{EventCodec, StoredEvent, STORED_EVENT_COLUMNS};
use platform::position::Position;
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{QueryError, QueryResult};

#[derive(Debug, Clone)]
pub struct EventRecord {
    pub position: Position,
    pub ticket_id: Uuid,
    pub sequence: u64,
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub actor_kind: Option<String>,
    pub channel: Option<String>,
    /// The request id of the command that recorded it (`x-request-id`;
    /// ingest's own id for alerts).
    pub request_id: Option<String>,
    pub event: TicketEvent,
}

impl EventRecord {
    pub fn from_stored(e: StoredEvent) -> QueryResult<Self> {
        let ticket_id = Uuid::parse_str(&e.ticket_id).map_err(|_| {
            QueryError::Internal(format!("event of non-uuid ticket '{}'", e.ticket_id))
        })?;
        let who = e.metadata.who();
        let actor = who.actor_or(e.payload.by()).to_string();
        Ok(EventRecord {
            position: e.position,
            ticket_id,
            sequence: e.sequence,
            actor,
            actor_kind: who.actor_kind.map(Cow::into_owned),
            channel: who.channel.map(Cow::into_owned),
            request_id: who.correlation_id.map(Cow::into_owned),
            event_type: e.event_type,
            recorded_at: e.recorded_at,
            event: e.payload,
        })
    }

    /// The event's fields (today's schema, after upcasting), without the
    /// variant wrapper: the variant is `type`.
    pub fn payload(&self) -> Value {
        match serde_json::to_value(&self.event) {
            Ok(Value::Object(map)) if map.len() == 1 => map
                .into_iter()
                .next()
                .map(|(_, v)| v)
                .unwrap_or(Value::Null),
            Ok(other) => other,
            Err(_) => Value::Null,
        }
    }
}

fn records(rows: Vec<StoredEvent>) -> QueryResult<Vec<EventRecord>> {
    rows.into_iter().map(EventRecord::from_stored).collect()
}

/// Events in `(from, to]` in feed order, at most `limit`. The projector has
/// applied `to`, so nothing can still appear inside that range.
pub async fn range<'e>(
    executor: impl PgExecutor<'e>,
    codec: &EventCodec,
    from: Position,
    to: Position,
    limit: i64,
) -> QueryResult<Vec<EventRecord>> {
    let sql = format!(
        "SELECT {STORED_EVENT_COLUMNS} FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
            AND (transaction_id, global_position) <= ($3::text::xid8, $4)
          ORDER BY events.transaction_id, events.global_position
          LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(from.transaction_id.to_string())
        .bind(from.global_position)
        .bind(to.transaction_id.to_string())
        .bind(to.global_position)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    let stored = rows
        .iter()
        .map(|r| codec.stored_event(r))
        .collect::<Result<Vec<_>, _>>()?;
    records(stored)
}

/// Up to `limit` events after `after` from the gap-safe feed.
pub async fn after<'e>(
    executor: impl PgExecutor<'e>,
    codec: &EventCodec,
    after: Position,
    limit: i64,
) -> QueryResult<Vec<EventRecord>> {
    records(platform::feed::read_after(executor, codec, after, limit).await?)
}
