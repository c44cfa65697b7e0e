//! One projection's in-memory fold of a batch, whatever the projection.

use platform::event_store::StoredEvent;
use sqlx::PgConnection;

use crate::error::ProjectorError;
use crate::schema::Projection;
use crate::stats::{StatsBatch, StatsModel};
use crate::tickets::{RowsBatch, TicketsModel, TimelineBatch};

pub(crate) enum Model {
    Tickets(TicketsModel),
    Stats(StatsModel),
}

/// Rows taken out of a model, to be written (in any transaction on the
/// schema in `search_path`).
pub(crate) enum Job {
    TicketRows(RowsBatch),
    Timeline(TimelineBatch),
    Stats(StatsBatch),
}

impl Job {
    pub(crate) async fn write(self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        match self {
            Job::TicketRows(b) => b.write(conn).await,
            Job::Timeline(b) => b.write(conn).await,
            Job::Stats(b) => b.write(conn).await,
        }
    }
}

impl Model {
    pub(crate) fn new(projection: Projection) -> Model {
        match projection {
            Projection::Tickets => Model::Tickets(TicketsModel::default()),
            Projection::Stats => Model::Stats(StatsModel::default()),
        }
    }

    /// Folds `events` in: first loads, from the schema in `search_path`,
    /// the rows they touch that are not in memory yet.
    pub(crate) async fn apply(
        &mut self,
        conn: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), ProjectorError> {
        match self {
            Model::Tickets(m) => {
                let ids = m.missing(events);
                m.load(conn, &ids).await?;
                events.iter().try_for_each(|e| m.apply(e))
            }
            Model::Stats(m) => {
                let ids = m.missing(events);
                m.load(conn, &ids).await?;
                events.iter().try_for_each(|e| m.apply(e))
            }
        }
    }

    /// Whether folding `events` needs rows that are not in memory.
    pub(crate) fn needs_rows(&self, events: &[StoredEvent]) -> bool {
        match self {
            Model::Tickets(m) => !m.missing(events).is_empty(),
            Model::Stats(m) => !m.missing(events).is_empty(),
        }
    }

    /// Writes everything folded since the last flush to the schema in
    /// `search_path`, in the caller's transaction.
    pub(crate) async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        match self {
            Model::Tickets(m) => m.flush(conn).await,
            Model::Stats(m) => m.flush(conn).await,
        }
    }

    /// Append-only rows (the timeline) waiting to be written.
    pub(crate) fn log_pending(&self) -> usize {
        match self {
            Model::Tickets(m) => m.timeline_pending(),
            Model::Stats(_) => 0,
        }
    }

    /// Takes the append-only rows, leaving the rows that still change in
    /// memory. Only for a rebuild's private copy: the checkpoint does not
    /// move with them.
    pub(crate) fn take_log(&mut self) -> Vec<Job> {
        match self {
            Model::Tickets(m) => m.take_timeline().map(Job::Timeline).into_iter().collect(),
            Model::Stats(_) => vec![],
        }
    }

    /// Takes the rows no event touched in the last `idle` events (written
    /// rows are read back when an event needs them again).
    pub(crate) fn take_idle(&mut self, idle: u64, parts: usize) -> Vec<Job> {
        match self {
            Model::Tickets(m) => m
                .take_idle_rows(idle, parts)
                .into_iter()
                .map(Job::TicketRows)
                .collect(),
            // Small rows, a few per ticket: written at the end.
            Model::Stats(_) => vec![],
        }
    }

    /// Takes everything folded, the changed rows split into `parts` disjoint
    /// jobs; memory is emptied (later events read rows back).
    pub(crate) fn take_all(&mut self, parts: usize) -> Vec<Job> {
        match self {
            Model::Tickets(m) => {
                let mut jobs: Vec<Job> = m
                    .take_rows(parts, true)
                    .into_iter()
                    .map(Job::TicketRows)
                    .collect();
                jobs.extend(m.take_timeline().map(Job::Timeline));
                jobs
            }
            Model::Stats(m) => m.take().map(Job::Stats).into_iter().collect(),
        }
    }

    /// Approximate bytes held in memory.
    pub(crate) fn weight(&self) -> usize {
        match self {
            Model::Tickets(m) => m.weight(),
            Model::Stats(m) => m.weight(),
        }
    }
}
