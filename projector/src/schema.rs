//! The projections, their schemas and checkpoints.
//!
//! Every projection lives in its own schema (`rm_tickets`, `rm_stats`), made
//! by a SQL function of the read-model migration, with a one-row
//! `checkpoint` table. Projection SQL names its tables unqualified and each
//! transaction points `search_path` at the schema it works on, so the same
//! statements serve the live schema and a rebuild's fresh copy.

use chrono::{DateTime, Utc};
use platform::position::Position;
use sqlx::{PgConnection, Row};

use crate::error::ProjectorError;

/// The projections this crate maintains, by name.
pub const PROJECTIONS: &[&str] = &["tickets", "stats"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    /// Ticket list and detail, full-text search, per-ticket timeline.
    Tickets,
    /// Dashboard counters.
    Stats,
}

impl Projection {
    pub const ALL: [Projection; 2] = [Projection::Tickets, Projection::Stats];

    pub fn name(&self) -> &'static str {
        match self {
            Projection::Tickets => "tickets",
            Projection::Stats => "stats",
        }
    }

    /// The live schema.
    pub fn schema(&self) -> &'static str {
        match self {
            Projection::Tickets => "rm_tickets",
            Projection::Stats => "rm_stats",
        }
    }

    pub fn parse(name: &str) -> Result<Projection, ProjectorError> {
        Projection::ALL
            .into_iter()
            .find(|p| p.name() == name.trim())
            .ok_or_else(|| ProjectorError::UnknownProjection(name.to_string()))
    }

    /// The projections `name` selects: one, or all of them for `None`.
    pub fn select(name: Option<&str>) -> Result<Vec<Projection>, ProjectorError> {
        match name {
            None => Ok(Projection::ALL.to_vec()),
            Some(n) => Ok(vec![Projection::parse(n)?]),
        }
    }

    /// Session advisory lock held by the one leader of this projection.
    pub(crate) fn leader_key(&self) -> i64 {
        lock_key(&["ticketera.projector.leader.", self.name()])
    }

    /// Session advisory lock held by a running rebuild of this projection.
    pub(crate) fn rebuild_key(&self) -> i64 {
        lock_key(&["ticketera.projector.rebuild.", self.name()])
    }

    /// Creates an empty copy of this projection's tables in schema `name`;
    /// without its secondary indexes unless `indexed` (see `index_schema`).
    pub(crate) async fn create_schema(
        &self,
        conn: &mut PgConnection,
        name: &str,
        indexed: bool,
    ) -> Result<(), ProjectorError> {
        check_schema_name(name)?;
        match self {
            Projection::Tickets => {
                sqlx::query("SELECT rm_create_tickets_schema($1, $2)")
                    .bind(name)
                    .bind(indexed)
                    .execute(conn)
                    .await?
            }
            // A handful of small tables: always indexed.
            Projection::Stats => {
                sqlx::query("SELECT rm_create_stats_schema($1)")
                    .bind(name)
                    .execute(conn)
                    .await?
            }
        };
        Ok(())
    }

    /// Statements (taking the schema's name as `$1`) that add the indexes
    /// `create_schema(.., false)` left out; they may run concurrently.
    pub(crate) fn index_statements(&self) -> &'static [&'static str] {
        match self {
            Projection::Tickets => &[
                "SELECT rm_index_tickets_schema($1, 'search')",
                "SELECT rm_index_tickets_schema($1, 'other')",
            ],
            Projection::Stats => &[],
        }
    }

    /// Statements that refresh the planner's statistics of
    /// the schema in `search_path`; they may run concurrently. The columns
    /// queries filter and sort on, not the search vector: its lexeme
    /// statistics take long, and autovacuum adds them soon enough.
    pub(crate) fn analyze_statements(&self) -> &'static [&'static str] {
        match self {
            Projection::Tickets => &[
                "ANALYZE tickets (id, number, status, severity, source, assignee, rule_name, tags, created_at, updated_at)",
                "ANALYZE timeline (ticket_id, sequence)",
            ],
            Projection::Stats => &[
                "ANALYZE ticket_state",
                "ANALYZE open_by_status_severity",
                "ANALYZE daily",
                "ANALYZE rules",
            ],
        }
    }
}

/// A stable 64-bit key (FNV-1a) for `pg_advisory_lock`: the same in every
/// process and release, unlike Rust's randomized hashers.
fn lock_key(parts: &[&str]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Schema names are made here, but they travel to `search_path` and to the
/// SQL functions: accept only plain lower-case identifiers.
pub(crate) fn check_schema_name(name: &str) -> Result<(), ProjectorError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ProjectorError::SchemaName(name.to_string()))
    }
}

/// Points the current transaction's `search_path` at `schema`, ahead of the
/// session's own path: projection SQL resolves to that schema's tables, and
/// the feed still finds `events` where the migrations put it. For a
/// transaction that has not entered a schema yet (every batch and poll):
/// its path is still the session's. `current_setting` is what keeps an idle
/// poll cheap; the `pg_settings` view of [`switch_schema`] builds every
/// setting's row and cost 1.3 ms a batch.
pub(crate) async fn enter_schema(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), ProjectorError> {
    set_search_path(conn, schema, ENTER_SCHEMA).await
}

/// [`enter_schema`] for a transaction that already entered another schema
/// (the rebuild's swap): ahead of the session's path as it was before
/// either, not of the other schema.
pub(crate) async fn switch_schema(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), ProjectorError> {
    set_search_path(conn, schema, SWITCH_SCHEMA).await
}

const ENTER_SCHEMA: &str = "SELECT set_config('search_path',
        quote_ident($1) || ', ' || current_setting('search_path'), true)";

const SWITCH_SCHEMA: &str = "SELECT set_config('search_path',
        quote_ident($1) || ', ' || (SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'search_path'),
        true)";

async fn set_search_path(
    conn: &mut PgConnection,
    schema: &str,
    sql: &'static str,
) -> Result<(), ProjectorError> {
    check_schema_name(schema)?;
    sqlx::query(sql).bind(schema).execute(conn).await?;
    Ok(())
}

/// A projection's checkpoint row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checkpoint {
    pub position: Position,
    pub retired: bool,
}

/// Reads the checkpoint of the schema in `search_path`, locking its row: the
/// live leader's batches and a rebuild's swap take the same lock, so they
/// serialize.
pub(crate) async fn lock_checkpoint(conn: &mut PgConnection) -> Result<Checkpoint, ProjectorError> {
    let row = sqlx::query(
        "SELECT transaction_id::text AS transaction_id, global_position, retired
           FROM checkpoint FOR UPDATE",
    )
    .fetch_one(conn)
    .await?;
    Ok(Checkpoint {
        position: platform::event_store::position_of(&row)?,
        retired: row.try_get("retired")?,
    })
}

/// Reads the checkpoint of the schema in `search_path` without locking.
pub(crate) async fn read_checkpoint(conn: &mut PgConnection) -> Result<Position, ProjectorError> {
    let row = sqlx::query(
        "SELECT transaction_id::text AS transaction_id, global_position FROM checkpoint",
    )
    .fetch_one(conn)
    .await?;
    Ok(platform::event_store::position_of(&row)?)
}

/// Compare-and-set: moves the checkpoint from `from` to `to` and fails when
/// it is no longer at `from` (or its schema was retired by a swap).
pub(crate) async fn advance_checkpoint(
    conn: &mut PgConnection,
    projection: Projection,
    from: Position,
    to: Position,
    applied: u64,
    last_recorded_at: Option<DateTime<Utc>>,
) -> Result<(), ProjectorError> {
    let moved = sqlx::query(
        "UPDATE checkpoint
            SET transaction_id = $3::text::xid8, global_position = $4,
                events_applied = events_applied + $5,
                last_recorded_at = coalesce($6, last_recorded_at),
                updated_at = now()
          WHERE transaction_id = $1::text::xid8 AND global_position = $2 AND NOT retired",
    )
    .bind(from.transaction_id.to_string())
    .bind(from.global_position)
    .bind(to.transaction_id.to_string())
    .bind(to.global_position)
    .bind(i64::try_from(applied).unwrap_or(i64::MAX))
    .bind(last_recorded_at)
    .execute(conn)
    .await?;
    if moved.rows_affected() == 1 {
        Ok(())
    } else {
        Err(ProjectorError::CheckpointMoved(projection.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        // Fixed values: a changed key would let an old and a new release
        // both believe they lead.
        assert_eq!(lock_key(&["a"]), lock_key(&["a"]));
        assert_ne!(
            Projection::Tickets.leader_key(),
            Projection::Stats.leader_key()
        );
        assert_ne!(
            Projection::Tickets.leader_key(),
            Projection::Tickets.rebuild_key()
        );
        assert_eq!(lock_key(&[""]), 0xcbf2_9ce4_8422_2325_u64 as i64);
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema_name("rm_tickets_build_12").is_ok());
        assert!(check_schema_name("rm\"; drop").is_err());
        assert!(check_schema_name("RM").is_err());
        assert!(check_schema_name("").is_err());
        assert!(Projection::parse("stats").is_ok());
        assert!(Projection::parse("nope").is_err());
    }
}
