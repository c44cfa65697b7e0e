//! Runs the projections: one leader per projection, hot standbys, batches.
//!
//! Leadership is a session `pg_try_advisory_lock` on a connection of its
//! own; the leader runs its batches on that very connection, so a batch can
//! only commit while the lock is held, and the lock goes when the process or
//! its connection dies. Standbys retry every second.
//!
//! A batch is one transaction: checkpoint → feed → read models → checkpoint
//! compare-and-set → `pg_notify('ticket_projected')` → commit. Read models
//! therefore change exactly once per event, whatever crashes when.

use std::time::{Duration, Instant};

use platform::event_store::EventCodec;
use platform::feed;
use platform::http::shutdown::Shutdown;
use platform::position::Position;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::{Connection, PgConnection, PgPool, Row};
use tokio::sync::watch;

use crate::error::ProjectorError;
use crate::model::Model;
use crate::schema::{self, Projection};

/// Events per batch of a live leader.
pub const DEFAULT_BATCH_SIZE: i64 = 500;
/// The failpoint the crash test uses (env `TICKETERA_FAILPOINT`).
pub const FAILPOINT_BEFORE_COMMIT: &str = "projector_before_commit";
/// What the failpoint prints to stderr before it hangs.
pub const FAILPOINT_MARKER: &str = "failpoint projector_before_commit reached";

const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
const STANDBY_RETRY: Duration = Duration::from_secs(1);
const LAG_EVERY: Duration = Duration::from_secs(1);
/// Lag in events is counted exactly up to this many, then saturates: the
/// count must stay cheap when a projection is far behind.
const LAG_COUNT_CAP: i64 = 100_000;
/// The NOTIFY channel query-api listens to.
pub const PROJECTED_CHANNEL: &str = "ticket_projected";
/// The NOTIFY channel the events table's trigger sends on.
pub const APPENDED_CHANNEL: &str = "events_appended";

/// The projections of this process.
#[derive(Clone)]
pub struct Projector {
    pool: PgPool,
    projections: Vec<Projection>,
    batch_size: i64,
    failpoint: Option<String>,
    codec: EventCodec,
}

pub(crate) enum Outcome {
    /// Applied this many events.
    Applied(usize),
    /// Nothing new in the feed.
    Idle,
    /// A rebuild swapped this schema out; names resolve anew next time.
    Retired,
}

impl Projector {
    /// Every projection, batches of `DEFAULT_BATCH_SIZE`, the failpoint from
    /// `TICKETERA_FAILPOINT` when set.
    pub fn new(pool: PgPool) -> Projector {
        Projector {
            pool,
            projections: Projection::ALL.to_vec(),
            batch_size: DEFAULT_BATCH_SIZE,
            failpoint: std::env::var("TICKETERA_FAILPOINT")
                .ok()
                .filter(|f| !f.trim().is_empty()),
            codec: EventCodec::default(),
        }
    }

    pub fn batch_size(mut self, events: i64) -> Projector {
        self.batch_size = events.max(1);
        self
    }

    pub fn projections(mut self, projections: Vec<Projection>) -> Projector {
        self.projections = projections;
        self
    }

    pub fn failpoint(mut self, failpoint: Option<String>) -> Projector {
        self.failpoint = failpoint;
        self
    }

    fn options(&self) -> PgConnectOptions {
        (*self.pool.connect_options())
            .clone()
            .application_name("ticketera-projector")
    }

    /// Runs every projection until `shutdown`: leads each one this process
    /// can lock, stands by for the others. Returns once every task stopped.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), ProjectorError> {
        describe_metrics();
        let (wake_tx, wake_rx) = watch::channel(0u64);
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(listen(self.pool.clone(), wake_tx, shutdown.clone()));
        tasks.spawn(watch_feed(self.pool.clone(), shutdown.clone()));
        for p in self.projections.clone() {
            let me = self.clone();
            let wake = wake_rx.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move { me.lead_or_stand_by(p, wake, stop).await });
        }
        tracing::info!(projections = ?self.projections.iter().map(|p| p.name()).collect::<Vec<_>>(), "projector started");
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a projector task panicked");
            }
        }
        tracing::info!("projector stopped");
        Ok(())
    }

    /// Applies everything the feed delivers now, in batches, then returns
    /// how many events it applied. Takes each projection's leader lock for
    /// the duration: `Busy` when a leader runs elsewhere.
    pub async fn catch_up(&self) -> Result<u64, ProjectorError> {
        let mut total = 0u64;
        for p in &self.projections {
            let mut conn = PgConnection::connect_with(&self.options()).await?;
            if !try_lock(&mut conn, p.leader_key()).await? {
                return Err(ProjectorError::Busy(p.name()));
            }
            let result = async {
                let mut applied = 0u64;
                loop {
                    match self.batch(&mut conn, *p).await? {
                        Outcome::Applied(n) => applied += n as u64,
                        Outcome::Idle => return Ok::<u64, ProjectorError>(applied),
                        Outcome::Retired => conn.clear_cached_statements().await?,
                    }
                }
            }
            .await;
            unlock(&mut conn, p.leader_key()).await;
            let _ = conn.close().await;
            total += result?;
        }
        Ok(total)
    }

    async fn lead_or_stand_by(
        self,
        p: Projection,
        mut wake: watch::Receiver<u64>,
        shutdown: Shutdown,
    ) {
        let leader = metrics::gauge!("ticketera_projector_leader", "projection" => p.name());
        leader.set(0.0);
        while !shutdown.is_cancelled() {
            let mut conn = match PgConnection::connect_with(&self.options()).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(projection = p.name(), error = %e, "cannot connect; retrying");
                    if pause(STANDBY_RETRY, &shutdown).await {
                        return;
                    }
                    continue;
                }
            };
            let mut announced_standby = false;
            loop {
                match try_lock(&mut conn, p.leader_key()).await {
                    Ok(true) => {
                        tracing::info!(projection = p.name(), "leading the projection");
                        leader.set(1.0);
                        let led = self.lead(p, &mut conn, &mut wake, &shutdown).await;
                        leader.set(0.0);
                        match led {
                            Ok(()) => {
                                // Shutdown: hand over at once rather than
                                // when the connection closes.
                                unlock(&mut conn, p.leader_key()).await;
                                let _ = conn.close().await;
                                return;
                            }
                            Err(e) => {
                                tracing::error!(projection = p.name(), error = %e, "projection failed; leadership released, retrying");
                                // Dropping the connection ends the session,
                                // its transaction and its lock.
                                drop(conn);
                                if pause(STANDBY_RETRY, &shutdown).await {
                                    return;
                                }
                                break;
                            }
                        }
                    }
                    Ok(false) => {
                        if !announced_standby {
                            tracing::info!(
                                projection = p.name(),
                                "another process leads the projection; standing by"
                            );
                            announced_standby = true;
                        }
                        if pause(STANDBY_RETRY, &shutdown).await {
                            let _ = conn.close().await;
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(projection = p.name(), error = %e, "standby connection lost; reconnecting");
                        break;
                    }
                }
            }
        }
    }

    async fn lead(
        &self,
        p: Projection,
        conn: &mut PgConnection,
        wake: &mut watch::Receiver<u64>,
        shutdown: &Shutdown,
    ) -> Result<(), ProjectorError> {
        let applied_total =
            metrics::counter!("ticketera_projector_events_total", "projection" => p.name());
        let mut backoff = MIN_BACKOFF;
        let mut lag_at: Option<Instant> = None;
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            // Mark hints seen before reading: one arriving from here on
            // wakes the wait below, none is lost in between.
            wake.borrow_and_update();
            let outcome = self.batch(conn, p).await?;
            if lag_at.is_none_or(|t| t.elapsed() >= LAG_EVERY) {
                if let Err(e) = report_lag(conn, p).await {
                    tracing::warn!(projection = p.name(), error = %e, "cannot measure lag");
                }
                lag_at = Some(Instant::now());
            }
            match outcome {
                Outcome::Applied(n) => {
                    applied_total.increment(n as u64);
                    backoff = MIN_BACKOFF;
                }
                Outcome::Retired => {
                    tracing::info!(
                        projection = p.name(),
                        "read model swapped in by a rebuild; continuing on it"
                    );
                    conn.clear_cached_statements().await?;
                    backoff = MIN_BACKOFF;
                }
                Outcome::Idle => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        hint = wake.changed() => {
                            backoff = MIN_BACKOFF;
                            if hint.is_err() {
                                // No listener any more: polling alone.
                                tokio::time::sleep(MAX_BACKOFF).await;
                            }
                        }
                        _ = tokio::time::sleep(backoff) => {
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
            }
        }
    }

    /// One batch in one transaction.
    pub(crate) async fn batch(
        &self,
        conn: &mut PgConnection,
        p: Projection,
    ) -> Result<Outcome, ProjectorError> {
        let mut tx = conn.begin().await?;
        schema::enter_schema(&mut tx, p.schema()).await?;
        // Peek without locking: an idle poll then stays read-only, takes no
        // transaction id and holds no other consumer back.
        let seen = schema::read_checkpoint(&mut tx).await?;
        let events = feed::read_after(&mut *tx, &self.codec, seen, self.batch_size).await?;
        if events.is_empty() {
            tx.rollback().await?;
            return Ok(Outcome::Idle);
        }
        let checkpoint = schema::lock_checkpoint(&mut tx).await?;
        if checkpoint.retired {
            tx.rollback().await?;
            return Ok(Outcome::Retired);
        }
        if checkpoint.position != seen {
            // Moved between the peek and the lock: read again.
            tx.rollback().await?;
            return Ok(Outcome::Applied(0));
        }
        let mut model = Model::new(p);
        model.apply(&mut tx, &events).await?;
        model.flush(&mut tx).await?;
        let (to, last_recorded_at) = match events.last() {
            Some(last) => (last.position, Some(last.recorded_at)),
            None => (seen, None),
        };
        schema::advance_checkpoint(&mut tx, p, seen, to, events.len() as u64, last_recorded_at)
            .await?;
        notify_projected(&mut tx, p, seen, to, false).await?;
        if self.failpoint.as_deref() == Some(FAILPOINT_BEFORE_COMMIT) {
            // For the crash test: read models written, not committed.
            tracing::error!(
                projection = p.name(),
                "{FAILPOINT_MARKER}; hanging until killed"
            );
            std::future::pending::<()>().await;
        }
        tx.commit().await?;
        Ok(Outcome::Applied(events.len()))
    }
}

/// `{"projection":"tickets","from":"<cursor>","to":"<cursor>"}`: the batch's
/// position range, never its ids (a payload is capped at 8000 bytes);
/// listeners read what changed. `rebuilt` marks a swap, after which anything
/// may differ.
pub(crate) async fn notify_projected(
    conn: &mut PgConnection,
    p: Projection,
    from: Position,
    to: Position,
    rebuilt: bool,
) -> Result<(), ProjectorError> {
    let mut payload = json!({"projection": p.name(), "from": from.cursor(), "to": to.cursor()});
    if rebuilt {
        payload["rebuilt"] = json!(true);
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(PROJECTED_CHANNEL)
        .bind(payload.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn try_lock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

pub(crate) async fn unlock(conn: &mut PgConnection, key: i64) {
    let released: Result<bool, _> = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .fetch_one(conn)
        .await;
    if let Err(e) = released {
        // The session ends right after; that releases it too.
        tracing::debug!(error = %e, "advisory unlock failed");
    }
}

/// Sleeps `d`; true when shutdown came first.
async fn pause(d: Duration, shutdown: &Shutdown) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

/// `LISTEN events_appended`: a hint only (NOTIFY is lossy; leaders poll).
async fn listen(pool: PgPool, wake: watch::Sender<u64>, shutdown: Shutdown) {
    while !shutdown.is_cancelled() {
        let listener = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen(APPENDED_CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN {APPENDED_CHANNEL}; polling only, retrying");
                if pause(STANDBY_RETRY, &shutdown).await {
                    return;
                }
                continue;
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                got = listener.recv() => match got {
                    Ok(_) => wake.send_modify(|n| *n = n.wrapping_add(1)),
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                        // Hints may have been lost with it: look now.
                        wake.send_modify(|n| *n = n.wrapping_add(1));
                        break;
                    }
                }
            }
        }
    }
}

/// Exports how long the oldest writer holds the feed back, cluster-wide.
async fn watch_feed(pool: PgPool, shutdown: Shutdown) {
    loop {
        if let Err(e) = feed::held_back_seconds(&pool).await {
            tracing::debug!(error = %e, "cannot measure the feed watermark");
        }
        if pause(Duration::from_secs(2), &shutdown).await {
            return;
        }
    }
}

/// Lag of projection `p`: events after its checkpoint (capped) and the age
/// of the oldest of them.
pub(crate) async fn report_lag(
    conn: &mut PgConnection,
    p: Projection,
) -> Result<(i64, f64), ProjectorError> {
    let mut tx = conn.begin().await?;
    schema::enter_schema(&mut tx, p.schema()).await?;
    let at = schema::read_checkpoint(&mut tx).await?;
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM events
                   WHERE (transaction_id, global_position) > ($1::text::xid8, $2) LIMIT $3) behind) AS events,
                coalesce(extract(epoch FROM now() - (SELECT recorded_at FROM events
                   WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
                   ORDER BY events.transaction_id, events.global_position LIMIT 1))::float8, 0) AS seconds",
    )
    .bind(at.transaction_id.to_string())
    .bind(at.global_position)
    .bind(LAG_COUNT_CAP)
    .fetch_one(&mut *tx)
    .await?;
    tx.rollback().await?;
    let events: i64 = row.try_get("events")?;
    let seconds: f64 = row.try_get::<f64, _>("seconds")?.max(0.0);
    metrics::gauge!("ticketera_projector_lag_events", "projection" => p.name()).set(events as f64);
    metrics::gauge!("ticketera_projector_lag_seconds", "projection" => p.name()).set(seconds);
    Ok((events, seconds))
}

fn describe_metrics() {
    metrics::describe_gauge!(
        "ticketera_projector_lag_events",
        "Events after the projection's checkpoint (counted up to 100000)"
    );
    metrics::describe_gauge!(
        "ticketera_projector_lag_seconds",
        "Age of the oldest event the projection has not applied yet"
    );
    metrics::describe_gauge!(
        "ticketera_feed_held_back_seconds",
        "How long the oldest running writer of the cluster has held the feed back"
    );
    metrics::describe_gauge!(
        "ticketera_projector_leader",
        "1 while this process leads the projection"
    );
    metrics::describe_counter!(
        "ticketera_projector_events_total",
        "Events applied by this process, per projection"
    );
}
