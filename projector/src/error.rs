//! What can go wrong while projecting.

use platform::event_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    #[error("unknown projection '{0}': expected one of tickets, stats")]
    UnknownProjection(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("reading the feed: {0}")]
    Feed(#[from] StoreError),
    /// The checkpoint moved under us: another writer applied these events.
    #[error("checkpoint of projection '{0}' changed concurrently")]
    CheckpointMoved(&'static str),
    /// An event that cannot follow what the read model already holds, e.g. a
    /// sequence number the ticket already has: applying it would count it twice.
    #[error("projection '{projection}': {reason}")]
    Inconsistent {
        projection: &'static str,
        reason: String,
    },
    #[error("another process holds projection '{0}' (a leader, or a rebuild in progress)")]
    Busy(&'static str),
    #[error("a rebuild task failed: {0}")]
    Task(String),
    #[error("invalid schema name '{0}'")]
    SchemaName(String),
}
