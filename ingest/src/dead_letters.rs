//! Input that could not be parsed: kept, bounded, with the reason and the raw
//! bytes (`bytea`). Workers hand letters to a writer task through a bounded
//! queue (never waiting on the database); the writer inserts them in batches
//! and trims the table to the configured number of rows and of bytes,
//! oldest first. Of each input at most 64 KiB is kept, with its length.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::metrics::{metrics, DropReason};
use crate::Transport;

/// Longest raw input kept (larger input keeps its head and its length).
pub const RAW_KEPT_MAX: usize = 64 * 1024;
/// Longest reason kept, in characters (parse errors quote bits of the input).
pub const REASON_MAX_CHARS: usize = 1024;
const QUEUE: usize = 10_000;
const BATCH: usize = 500;

#[derive(Debug)]
struct Letter {
    transport: Transport,
    peer: Option<String>,
    reason: String,
    raw: Vec<u8>,
    original_size: i64,
    received_at: DateTime<Utc>,
}

type DeadLetterRow = (
    i64,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    Vec<u8>,
    i64,
);
type SummaryRow = (i64, DateTime<Utc>, String, Option<String>, String, i32, i64);

// The list never reads the raw bytes (up to 64 KiB each): only their size.
const LIST: &str =
    "SELECT id, received_at, transport, peer, reason, octet_length(raw), original_size FROM dead_letters
      WHERE ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $1";
const ONE: &str =
    "SELECT id, received_at, transport, peer, reason, raw, original_size FROM dead_letters WHERE id = $1";
// Beyond the row budget, then beyond the byte budget (counted from the newest).
const TRIM_ROWS: &str = "DELETE FROM dead_letters WHERE id < (
     SELECT min(id) FROM (SELECT id FROM dead_letters ORDER BY id DESC LIMIT $1) newest)";
const TRIM_BYTES: &str = "DELETE FROM dead_letters WHERE id IN (
     SELECT id FROM (SELECT id, sum(octet_length(raw)) OVER (ORDER BY id DESC) AS kept
                       FROM dead_letters) t
      WHERE kept > $1)";

#[derive(Clone)]
pub struct DeadLetters {
    tx: mpsc::Sender<Letter>,
    pool: PgPool,
    bounds: Bounds,
}

/// How much the table keeps: rows and bytes of raw input.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_rows: i64,
    pub max_bytes: i64,
}

/// A dead letter in the list: what and where from, not the bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetterSummary {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    /// `udp`, `tcp`, `tls` or `webhook`.
    pub transport: String,
    pub peer: Option<String>,
    pub reason: String,
    /// Bytes kept (at most 64 KiB of the input).
    pub size: usize,
    /// The input's own length (more than `size` when it was cut).
    pub original_size: i64,
}

/// One dead letter with its raw bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub transport: String,
    pub peer: Option<String>,
    pub reason: String,
    /// The raw bytes, base64.
    pub raw_base64: String,
    /// The raw bytes as text (invalid UTF-8 replaced, controls dropped).
    pub raw_text: String,
    /// Bytes kept (at most 64 KiB of the input).
    pub size: usize,
    /// The input's own length (more than `size` when it was cut).
    pub original_size: i64,
}

/// A reason fit for the `text` column and for a problem body: parse errors
/// quote the input, and Postgres refuses a NUL in `text`, which would fail
/// the whole insert batch and lose every letter in it. Control characters
/// go (as in event fields: `parse::clean`), and the length is bounded; the
/// raw bytes, untouched, are in `raw`.
pub fn sanitize_reason(reason: &str) -> String {
    crate::parse::clean_prefix(reason, REASON_MAX_CHARS)
}

fn clip(mut raw: Vec<u8>) -> (Vec<u8>, i64) {
    let original = i64::try_from(raw.len()).unwrap_or(i64::MAX);
    raw.truncate(RAW_KEPT_MAX);
    (raw, original)
}

impl DeadLetters {
    /// Starts the writer task.
    pub fn start(pool: PgPool, bounds: Bounds) -> DeadLetters {
        let bounds = Bounds {
            max_rows: bounds.max_rows.max(1),
            max_bytes: bounds.max_bytes.max(RAW_KEPT_MAX as i64),
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool.clone(), rx, bounds));
        DeadLetters { tx, pool, bounds }
    }

    /// Queues a letter without waiting; a full queue is counted.
    pub fn push(&self, transport: Transport, peer: Option<String>, reason: String, raw: Vec<u8>) {
        let (raw, original_size) = clip(raw);
        let letter = Letter {
            transport,
            peer,
            reason: sanitize_reason(&reason),
            raw,
            original_size,
            received_at: Utc::now(),
        };
        if self.tx.try_send(letter).is_err() {
            metrics().dropped(DropReason::DeadLetterQueueFull, 1);
        }
    }

    /// Stores a letter now (the webhook answers after it is kept).
    pub async fn store(
        &self,
        transport: Transport,
        peer: Option<String>,
        reason: &str,
        raw: &[u8],
    ) -> Result<(), sqlx::Error> {
        let original_size = i64::try_from(raw.len()).unwrap_or(i64::MAX);
        let raw = &raw[..raw.len().min(RAW_KEPT_MAX)];
        sqlx::query(
            "INSERT INTO dead_letters (transport, peer, reason, raw, original_size) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(transport.as_str())
        .bind(peer)
        .bind(sanitize_reason(reason))
        .bind(raw)
        .bind(original_size)
        .execute(&self.pool)
        .await?;
        trim(&self.pool, self.bounds).await
    }

    /// Newest first; `before` pages by id. Without the raw bytes.
    pub async fn list(
        &self,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<DeadLetterSummary>, sqlx::Error> {
        let rows: Vec<SummaryRow> = sqlx::query_as(LIST)
            .bind(limit)
            .bind(before)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, received_at, transport, peer, reason, size, original_size)| {
                    DeadLetterSummary {
                        id,
                        received_at,
                        transport,
                        peer,
                        reason,
                        size: usize::try_from(size).unwrap_or(0),
                        original_size,
                    }
                },
            )
            .collect())
    }

    /// One letter with its raw bytes, as base64 and as text.
    pub async fn get(&self, id: i64) -> Result<Option<DeadLetterView>, sqlx::Error> {
        use base64::Engine;
        let row: Option<DeadLetterRow> = sqlx::query_as(ONE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(
            |(id, received_at, transport, peer, reason, raw, original_size)| DeadLetterView {
                id,
                received_at,
                transport,
                peer,
                reason,
                raw_base64: base64::engine::general_purpose::STANDARD.encode(&raw),
                raw_text: crate::parse::clean(&String::from_utf8_lossy(&raw)),
                size: raw.len(),
                original_size,
            },
        ))
    }
}

async fn trim(pool: &PgPool, bounds: Bounds) -> Result<(), sqlx::Error> {
    sqlx::query(TRIM_ROWS)
        .bind(bounds.max_rows)
        .execute(pool)
        .await?;
    sqlx::query(TRIM_BYTES)
        .bind(bounds.max_bytes)
        .execute(pool)
        .await?;
    Ok(())
}

async fn insert(pool: &PgPool, letters: &[Letter]) -> Result<(), sqlx::Error> {
    let transports: Vec<&str> = letters.iter().map(|l| l.transport.as_str()).collect();
    let peers: Vec<Option<String>> = letters.iter().map(|l| l.peer.clone()).collect();
    let reasons: Vec<String> = letters.iter().map(|l| l.reason.clone()).collect();
    let raws: Vec<Vec<u8>> = letters.iter().map(|l| l.raw.clone()).collect();
    let times: Vec<DateTime<Utc>> = letters.iter().map(|l| l.received_at).collect();
    let sizes: Vec<i64> = letters.iter().map(|l| l.original_size).collect();
    sqlx::query(
        "INSERT INTO dead_letters (transport, peer, reason, raw, received_at, original_size)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bytea[], $5::timestamptz[], $6::int8[])",
    )
    .bind(transports)
    .bind(peers)
    .bind(reasons)
    .bind(raws)
    .bind(times)
    .bind(sizes)
    .execute(pool)
    .await?;
    Ok(())
}

async fn writer(pool: PgPool, mut rx: mpsc::Receiver<Letter>, bounds: Bounds) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut attempt = 0u32;
        loop {
            match insert(&pool, &batch).await {
                Ok(()) => break,
                Err(e) if attempt < 5 => {
                    tracing::warn!(error = %e, "storing dead letters failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, count = batch.len(), "dead letters not stored");
                    metrics().dropped(DropReason::DeadLetterQueueFull, batch.len() as u64);
                    break;
                }
            }
        }
        if let Err(e) = trim(&pool, bounds).await {
            tracing::warn!(error = %e, "trimming dead letters failed");
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_lose_control_characters_and_are_bounded() {
        let r = sanitize_reason("fortigate: 'a\0b\x1b[31m\u{85}' is not key=value");
        assert_eq!(r, "fortigate: 'ab[31m' is not key=value");
        let long = "x".repeat(10 * REASON_MAX_CHARS);
        assert_eq!(sanitize_reason(&long).chars().count(), REASON_MAX_CHARS);
        // Multi-byte characters are cut on a character boundary.
        let wide = "é".repeat(2 * REASON_MAX_CHARS);
        assert_eq!(sanitize_reason(&wide).chars().count(), REASON_MAX_CHARS);
    }
}
