//! The projector: catch-up subscriptions on the gap-safe feed that build the
//! read models, and their rebuild (docs/architecture.md, "The read side").
//!
//! - `tickets` (schema `rm_tickets`): `tickets`, one row per ticket with
//!   every field of the contract's `Ticket` plus `search_text`/`search` for
//!   full-text search, and `timeline`, one row per event with a human
//!   summary.
//! - `stats` (schema `rm_stats`): open tickets by status and severity,
//!   opened/resolved/acknowledged per day with time sums, top alert rules.
//!
//! ```no_run
//! # async fn demo(pool: sqlx::PgPool, shutdown: platform::http::shutdown::Shutdown) -> Result<(), projector::ProjectorError> {
//! // A service: leads or stands by for every projection until shutdown.
//! projector::Projector::new(pool.clone()).run(shutdown).await?;
//! // Rebuild one projection (or all with None) and swap it in.
//! projector::rebuild(&pool, Some("tickets")).await?;
//! # Ok(()) }
//! ```

mod error;
mod model;
mod rebuild;
mod runner;
mod schema;
mod stats;
pub mod synthetic;
mod tickets;

pub use error::ProjectorError;
pub use rebuild::{rebuild, RebuildReport};
pub use runner::{
    Projector, APPENDED_CHANNEL, DEFAULT_BATCH_SIZE, FAILPOINT_BEFORE_COMMIT, FAILPOINT_MARKER,
    PROJECTED_CHANNEL,
};
pub use schema::{Projection, PROJECTIONS};
