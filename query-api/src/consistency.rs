//! Read-your-writes: a query may ask for "at least position P" (argument
//! `minPosition` or header `x-min-position`) and waits, bounded, until the
//! projection it reads has reached P.

use std::time::Duration;

use platform::position::Position;

use crate::error::{QueryError, QueryResult};
use crate::hub::Hub;
use crate::store::Projection;

/// Re-read the checkpoint at least this often while waiting (NOTIFY may be lost).
const RECHECK: Duration = Duration::from_millis(100);

/// The minimum position of a request, from its `x-min-position` header.
#[derive(Debug, Clone, Copy)]
pub struct MinPosition(pub Position);

#[derive(Clone)]
pub struct Consistency {
    hub: Hub,
    max_wait: Duration,
}

impl Consistency {
    pub fn new(hub: Hub, max_wait: Duration) -> Self {
        Consistency { hub, max_wait }
    }

    /// Returns once `projection` has applied `min`, or fails with
    /// `NOT_YET_PROJECTED` after the bounded wait.
    pub async fn wait(&self, projection: Projection, min: Option<Position>) -> QueryResult<()> {
        let Some(min) = min else { return Ok(()) };
        let mut watch = self.hub.checkpoints();
        if watch.borrow().get(projection).is_some_and(|cp| cp >= min) {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + self.max_wait;
        loop {
            let cp = self.hub.read_models().checkpoint(projection).await?;
            if cp >= min {
                metrics::histogram!("ticketera_query_min_position_wait_seconds")
                    .record(started.elapsed().as_secs_f64());
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                metrics::counter!("ticketera_query_not_yet_projected_total").increment(1);
                return Err(QueryError::NotYetProjected { wanted: min });
            }
            tokio::select! {
                changed = watch.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + RECHECK)).await;
                    }
                }
                _ = tokio::time::sleep(RECHECK) => {}
                _ = tokio::time::sleep_until(deadline) => {
                    metrics::counter!("ticketera_query_not_yet_projected_total").increment(1);
                    return Err(QueryError::NotYetProjected { wanted: min });
                }
            }
            if watch.borrow().get(projection).is_some_and(|cp| cp >= min) {
                return Ok(());
            }
        }
    }
}
