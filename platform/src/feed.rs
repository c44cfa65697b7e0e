//! The gap-safe global feed (docs/architecture.md, "The gap-safe feed").
//!
//! Identity values become visible out of order: a transaction that took
//! position 10 may commit after one that took 11. Reading
//! `global_position > checkpoint` would skip 10 for good. The feed reads in
//! `(transaction_id, global_position)` order and only below the oldest
//! transaction still running, so nothing can later appear behind the
//! checkpoint.

use std::sync::OnceLock;

use cqrs_es::persist::EventUpcaster;
use domain::TicketEvent;
use serde_json::value::RawValue;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgExecutor, Row};

use crate::event_metadata::EventMetadata;
use crate::event_store::{EventCodec, StoreError, StoredEvent};
use crate::position::Position;

/// The columns `decode` reads, by position; the same names as
/// `event_store::STORED_EVENT_COLUMNS`, so that `EventCodec::stored_event`
/// reads them too.
const FEED_COLUMNS: &str = "aggregate_id, sequence, event_type, event_version, payload, metadata,
    transaction_id::text AS transaction_id, global_position, recorded_at, event_id";

/// Up to `limit` events after `after`, in commit-safe order.
pub async fn read_after<'e>(
    executor: impl PgExecutor<'e>,
    codec: &EventCodec,
    after: Position,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    read_rows_after(executor, after, limit).await?.decode(codec)
}

/// `read_after`'s page as it came, not decoded yet: a rebuild decodes one
/// page on another task while it reads the next, where reading and
/// decoding in turn left PostgreSQL idle during every decode.
pub async fn read_rows_after<'e>(
    executor: impl PgExecutor<'e>,
    after: Position,
    limit: i64,
) -> Result<RawPage, StoreError> {
    // ORDER BY names the table's columns: the bare names would resolve to
    // the output columns `transaction_id::text`, sorting xids as text ('10'
    // before '9'), which both skips events and defeats the index.
    let sql = format!(
        "SELECT {FEED_COLUMNS} FROM events
          WHERE (events.transaction_id, events.global_position) > ($1::text::xid8, $2)
            AND events.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY events.transaction_id, events.global_position
          LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after.transaction_id.to_string())
        .bind(after.global_position)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    Ok(RawPage { rows })
}

/// Rows of the feed in feed order, as `read_rows_after` read them.
pub struct RawPage {
    rows: Vec<PgRow>,
}

impl RawPage {
    /// Where the page ends: where the next one starts.
    pub fn last_position(&self) -> Result<Option<Position>, StoreError> {
        self.rows.last().map(row_position).transpose()
    }

    pub fn decode(&self, codec: &EventCodec) -> Result<Vec<StoredEvent>, StoreError> {
        decode_all(codec, &self.rows)
    }
}

/// Up to `limit` events in `(from, to]`, in feed order: a range a projector
/// already applied (a `ticket_projected` notification's), so nothing can
/// still appear inside it and no watermark is needed.
pub async fn read_range<'e>(
    executor: impl PgExecutor<'e>,
    codec: &EventCodec,
    from: Position,
    to: Position,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    // Table-qualified ORDER BY, as in `read_after`.
    let sql = format!(
        "SELECT {FEED_COLUMNS} FROM events
          WHERE (events.transaction_id, events.global_position) > ($1::text::xid8, $2)
            AND (events.transaction_id, events.global_position) <= ($3::text::xid8, $4)
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
    decode_all(codec, &rows)
}

/// A page's rows decoded, into a vector sized once: collecting a fallible
/// iterator cannot know its length, and growing a page of 5,000 events
/// (half a kilobyte each) by doubling copied it over and over.
fn decode_all(codec: &EventCodec, rows: &[PgRow]) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        events.push(decode(codec, row)?);
    }
    Ok(events)
}

/// Every upcaster of the stream, to tell which rows need one.
fn upcasters() -> &'static [Box<dyn EventUpcaster>] {
    static UPCASTERS: OnceLock<Vec<Box<dyn EventUpcaster>>> = OnceLock::new();
    UPCASTERS.get_or_init(domain::upcast::ticket_upcasters)
}

/// `EventCodec::stored_event`, with a shortcut for the common case: an event
/// stored in today's schema is deserialized straight from its JSON bytes,
/// without building a `serde_json::Value` tree first. A rebuild reads every
/// event ever stored, and that tree was most of its decoding time. Events
/// of an older schema go through the codec and its upcasters.
fn decode(codec: &EventCodec, row: &PgRow) -> Result<StoredEvent, StoreError> {
    // By position, in FEED_COLUMNS' order: a lookup by name per column and
    // row was a tenth of the decoding time.
    let event_type: String = row.try_get(2)?;
    let event_version: String = row.try_get(3)?;
    if upcasters()
        .iter()
        .any(|u| u.can_upcast(&event_type, &event_version))
    {
        return codec.stored_event(row);
    }
    let sequence: i64 = row.try_get(1)?;
    let payload: Json<TicketEvent> = row
        .try_get(4)
        .map_err(|e| StoreError::Corrupt(format!("{event_type} v{event_version}: {e}")))?;
    Ok(StoredEvent {
        ticket_id: row.try_get(0)?,
        sequence: sequence as u64,
        event_type,
        event_version,
        event_id: row.try_get(9)?,
        position: row_position(row)?,
        recorded_at: row.try_get(8)?,
        payload: payload.0,
        metadata: EventMetadata::from_raw(row.try_get::<Json<Box<RawValue>>, _>(5)?.0),
    })
}

/// A feed row's position, by column position as `decode` reads it.
fn row_position(row: &PgRow) -> Result<Position, StoreError> {
    let tx: &str = row.try_get(6)?;
    let transaction_id = tx
        .parse::<u64>()
        .map_err(|e| StoreError::Corrupt(format!("transaction id '{tx}': {e}")))?;
    Ok(Position::new(transaction_id, row.try_get(7)?))
}

/// The position of the newest event the feed can deliver now (the head).
pub async fn head<'e>(executor: impl PgExecutor<'e>) -> Result<Position, StoreError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT events.transaction_id::text, events.global_position FROM events
          WHERE events.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1",
    )
    .fetch_optional(executor)
    .await?;
    match row {
        None => Ok(Position::default()),
        Some((tx, pos)) => Ok(Position::new(
            tx.parse()
                .map_err(|e| StoreError::Corrupt(format!("transaction id '{tx}': {e}")))?,
            pos,
        )),
    }
}

/// Seconds the oldest running writing transaction of the cluster has been
/// open: how long it holds every feed consumer back (the watermark is
/// cluster-wide). Exported as `ticketera_feed_held_back_seconds`.
pub async fn held_back_seconds<'e>(executor: impl PgExecutor<'e>) -> Result<f64, StoreError> {
    let secs: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM now() - min(xact_start))::float8 FROM pg_stat_activity
          WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
    )
    .fetch_one(executor)
    .await?;
    let secs = secs.unwrap_or(0.0).max(0.0);
    metrics::gauge!("ticketera_feed_held_back_seconds").set(secs);
    Ok(secs)
}
