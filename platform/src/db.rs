//! The Postgres pool and the embedded migrations.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Migrations from `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Url(sqlx::Error),
    #[error("cannot connect to Postgres: {0}")]
    Connect(sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the events were written by transaction ids up to {newest}, but this PostgreSQL cluster \
         is only at {next}: it is a restore into a new cluster, and events written now would sit \
         behind every projection's checkpoint, never projected. Stop the cluster and move its \
         transaction-id epoch past the old one first: pg_resetwal -e {epoch} \"$PGDATA\" \
         (deploy/README.md, \"Backup and restore\")"
    )]
    TransactionIdsBehind { newest: u64, next: u64, epoch: u64 },
    #[error("checking the events' transaction ids: {0}")]
    Check(#[source] sqlx::Error),
}

/// Connects with the application's session limits: a transaction that idles
/// or a statement that runs away would hold back the global feed for every
/// consumer (docs/architecture.md, "The gap-safe feed").
pub async fn connect(url: &SecretString, max_connections: u32) -> Result<PgPool, DbError> {
    let options: PgConnectOptions = url.expose_secret().parse().map_err(DbError::Url)?;
    let options = options.application_name("ticketera").options([
        ("idle_in_transaction_session_timeout", "10s"),
        ("statement_timeout", "30s"),
    ]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        // A ping on every checkout is a round trip per query; a dead
        // connection fails its query instead, and is replaced.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

// The feed's index gives the newest writer at once; the next id to be
// assigned comes from a snapshot, which assigns none itself.
const TRANSACTION_IDS: &str = "SELECT (SELECT transaction_id::text::int8 FROM events
                 ORDER BY transaction_id DESC LIMIT 1),
                pg_snapshot_xmax(pg_current_snapshot())::text::int8";

/// Refuses a cluster whose transaction ids are behind those of the stored
/// events (a dump restored into a new cluster without moving its epoch):
/// new events would get smaller ids than the projections' checkpoints and
/// never be projected nor delivered.
pub async fn check_transaction_ids(pool: &PgPool) -> Result<(), DbError> {
    let (newest, next): (Option<i64>, i64) = sqlx::query_as(TRANSACTION_IDS)
        .fetch_one(pool)
        .await
        .map_err(DbError::Check)?;
    match newest {
        Some(newest) if newest >= next => Err(DbError::TransactionIdsBehind {
            newest: newest.unsigned_abs(),
            next: next.unsigned_abs(),
            epoch: (newest.unsigned_abs() >> 32) + 1,
        }),
        _ => Ok(()),
    }
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Whether every embedded migration has been applied (for `/readyz`).
pub async fn migrations_applied(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
}
