//! The gap-safe global feed (ARCHITECTURE.md).
//!
//! Identity values become visible out of order: a transaction that took
//! position 10 may commit after one that took 11. Reading
//! `global_position > checkpoint` would skip 10 for good. The feed reads in
//! `(transaction_id, global_position)` order and only below the oldest
//! transaction still running, so nothing can later appear behind the
//! checkpoint.

use sqlx::PgExecutor;

use crate::event_store::{EventCodec, StoreError, StoredEvent, STORED_EVENT_COLUMNS};
use crate::position::Position;

/// Up to `limit` events after `after`, in commit-safe order.
pub async fn read_after<'e>(
    executor: impl PgExecutor<'e>,
    codec: &EventCodec,
    after: Position,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let sql = format!(
        "SELECT {STORED_EVENT_COLUMNS} FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
            AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY transaction_id, global_position
          LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after.transaction_id.to_string())
        .bind(after.global_position)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter().map(|r| codec.stored_event(r)).collect()
}

/// The position of the newest event the feed can deliver now (the head).
pub async fn head<'e>(executor: impl PgExecutor<'e>) -> Result<Position, StoreError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT transaction_id::text, global_position FROM events
          WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
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
