//! The subscription fan-out: ONE `PgListener` per process on
//! `ticket_projected` → the events of each projected range, read once from
//! the event store → a `broadcast` of `Arc` batches → per-subscription
//! filters. The hub also tracks each projection's checkpoint for
//! read-your-writes waits.
//!
//! Ordering guarantees: the hub broadcasts contiguous ranges of the feed
//! (`(head, to]`, then `(to, …]`), each event once, in feed order. A
//! subscriber takes the receiver and the head under one lock, so it sees
//! every event after that head; one that catches up from the feed or lagged
//! skips what it already delivered (positions ≤ last delivered).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform::event_store::EventCodec;
use platform::position::Position;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::error::{QueryError, QueryResult};
use crate::events::{self, EventRecord};
use crate::store::{Projection, ReadModels, TicketRow};

/// The NOTIFY channel the projector signals on after each batch.
pub const CHANNEL: &str = "ticket_projected";
/// Events read per query when fetching a projected range.
const RANGE_CHUNK: i64 = 1_000;
/// Batches a receiver may fall behind before it lags (and resyncs from the
/// feed); `Options::broadcast_capacity` by default.
pub const BROADCAST_CAPACITY: usize = 1_024;
/// Checkpoints are also polled: NOTIFY is lost while the listener reconnects.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a subscription waits for the hub to know where the stream is.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// One projected range with the events in it and the read-model rows of the
/// tickets they touched, as read right after the batch was committed.
#[derive(Debug)]
pub struct Batch {
    pub to: Position,
    pub events: Vec<Arc<EventRecord>>,
    pub tickets: HashMap<Uuid, Arc<TicketRow>>,
}

/// Last known checkpoint of each projection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoints {
    pub tickets: Option<Position>,
    pub stats: Option<Position>,
}

impl Checkpoints {
    pub fn get(&self, p: Projection) -> Option<Position> {
        match p {
            Projection::Tickets => self.tickets,
            Projection::Stats => self.stats,
        }
    }
    fn raise(&mut self, p: Projection, to: Position) -> bool {
        let slot = match p {
            Projection::Tickets => &mut self.tickets,
            Projection::Stats => &mut self.stats,
        };
        if slot.is_none_or(|cur| to > cur) {
            *slot = Some(to);
            true
        } else {
            false
        }
    }
}

pub(crate) struct Shared {
    pub(crate) read: ReadModels,
    /// The fan-out's own connection (the range reads of `advance`): under
    /// load, commands hold the shared pool and the fan-out queued behind
    /// them for a connection, adding that wait to every delivery.
    fanout: ReadModels,
    pub(crate) codec: EventCodec,
    tx: broadcast::Sender<Arc<Batch>>,
    /// The end of the last range broadcast (or skipped while nobody listened).
    head: Mutex<Option<Position>>,
    /// Flips to true once the head is known.
    ready: watch::Sender<bool>,
    pub(crate) checkpoints: watch::Sender<Checkpoints>,
}

/// Cheap to clone; the listener stops when the last clone is dropped.
#[derive(Clone)]
pub struct Hub {
    pub(crate) shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

enum Signal {
    Notified(String),
    /// The listener (re)connected: notifications may have been missed.
    Resync,
}

impl Hub {
    /// Starts the listener; receivers lag beyond `capacity` batches (at
    /// least 1). Needs a Tokio runtime.
    pub fn start(pool: PgPool, capacity: usize) -> Hub {
        let (tx, _) = broadcast::channel(capacity.max(1));
        let (checkpoints, _) = watch::channel(Checkpoints::default());
        let fanout = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .connect_lazy_with(
                (*pool.connect_options())
                    .clone()
                    .application_name("ticketera-hub"),
            );
        let shared = Arc::new(Shared {
            read: ReadModels::new(pool.clone()),
            fanout: ReadModels::new(fanout),
            codec: EventCodec::default(),
            tx,
            head: Mutex::new(None),
            ready: watch::channel(false).0,
            checkpoints,
        });
        let (signals, rx) = mpsc::channel(256);
        let listener = tokio::spawn(listen(pool, signals));
        let processor = tokio::spawn(process(shared.clone(), rx));
        Hub {
            shared,
            _tasks: Arc::new(Tasks(vec![listener, processor])),
        }
    }

    /// A receiver of every batch after the returned head. Waits (bounded)
    /// for the hub's first checkpoint after the process started.
    pub async fn subscribe(&self) -> QueryResult<(broadcast::Receiver<Arc<Batch>>, Position)> {
        let mut ready = self.shared.ready.subscribe();
        let waited = tokio::time::timeout(READY_TIMEOUT, ready.wait_for(|r| *r)).await;
        if !matches!(waited, Ok(Ok(_))) {
            return Err(QueryError::Unavailable(
                "the subscription hub has not read the tickets checkpoint".into(),
            ));
        }
        let head = lock(&self.shared.head);
        Ok((self.shared.tx.subscribe(), head.unwrap_or_default()))
    }

    pub fn checkpoints(&self) -> watch::Receiver<Checkpoints> {
        self.shared.checkpoints.subscribe()
    }

    pub fn read_models(&self) -> &ReadModels {
        &self.shared.read
    }

    pub fn codec(&self) -> &EventCodec {
        &self.shared.codec
    }

    pub fn subscribers(&self) -> usize {
        self.shared.tx.receiver_count()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Forwards notifications; never cancelled mid-receive.
async fn listen(pool: PgPool, signals: mpsc::Sender<Signal>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "subscription listener cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN {CHANNEL} failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
            continue;
        }
        backoff = Duration::from_millis(100);
        if signals.send(Signal::Resync).await.is_err() {
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if signals
                        .send(Signal::Notified(n.payload().to_string()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(None) => {
                    // Connection lost; the next try_recv reconnects and re-listens.
                    metrics::counter!("ticketera_subscription_listener_reconnects_total")
                        .increment(1);
                    tracing::warn!("subscription listener lost its connection; reconnecting");
                    if signals.send(Signal::Resync).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "subscription listener failed; reconnecting");
                    metrics::counter!("ticketera_subscription_listener_reconnects_total")
                        .increment(1);
                    tokio::time::sleep(backoff).await;
                    break;
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct Notice {
    projection: String,
    to: String,
}

async fn process(shared: Arc<Shared>, mut signals: mpsc::Receiver<Signal>) {
    let mut poll = tokio::time::interval(POLL_INTERVAL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let result = tokio::select! {
            s = signals.recv() => match s {
                None => return,
                Some(first) => {
                    // Coalesce whatever else is queued: ranges are contiguous,
                    // so one read of (head, newest] serves them all.
                    let mut pending = Pending::default();
                    pending.add(&shared, first);
                    while let Ok(more) = signals.try_recv() {
                        pending.add(&shared, more);
                    }
                    if pending.resync {
                        resync(&shared).await
                    } else if let Some(to) = pending.tickets_to {
                        advance(&shared, to).await
                    } else {
                        Ok(())
                    }
                }
            },
            _ = poll.tick() => resync(&shared).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "subscription fan-out failed; resyncing on the next tick");
        }
    }
}

#[derive(Default)]
struct Pending {
    resync: bool,
    tickets_to: Option<Position>,
}

impl Pending {
    fn add(&mut self, shared: &Shared, signal: Signal) {
        match signal {
            Signal::Resync => self.resync = true,
            Signal::Notified(payload) => {
                let Some((projection, to)) = parse_notice(&payload) else {
                    return;
                };
                shared
                    .checkpoints
                    .send_if_modified(|c| c.raise(projection, to));
                if projection == Projection::Tickets {
                    self.tickets_to = self.tickets_to.max(Some(to));
                }
            }
        }
    }
}

fn parse_notice(payload: &str) -> Option<(Projection, Position)> {
    let notice: Notice = match serde_json::from_str(payload) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "ignoring a malformed {CHANNEL} payload");
            return None;
        }
    };
    Some((
        Projection::from_name(&notice.projection)?,
        notice.to.parse::<Position>().ok()?,
    ))
}

async fn resync(shared: &Shared) -> QueryResult<()> {
    for projection in [Projection::Tickets, Projection::Stats] {
        let cp = match shared.fanout.checkpoint(projection).await {
            Ok(cp) => cp,
            // A projection that does not exist (yet) is not an error of ours.
            Err(e) if projection == Projection::Stats => {
                tracing::debug!(error = %e, "stats checkpoint unreadable");
                continue;
            }
            Err(e) => return Err(e),
        };
        shared
            .checkpoints
            .send_if_modified(|c| c.raise(projection, cp));
        if projection == Projection::Tickets {
            advance(shared, cp).await?;
        }
    }
    Ok(())
}

/// Broadcasts `(head, to]`, in chunks.
async fn advance(shared: &Shared, to: Position) -> QueryResult<()> {
    loop {
        let from = {
            let mut head = lock(&shared.head);
            match *head {
                // The first checkpoint seen: the stream starts there.
                None => {
                    *head = Some(to);
                    shared.ready.send_replace(true);
                    return Ok(());
                }
                Some(h) if h >= to => return Ok(()),
                Some(h) => {
                    if shared.tx.receiver_count() == 0 {
                        // Nobody listens: nothing to read. Under the lock, so a
                        // subscriber arriving now starts from `to`.
                        *head = Some(to);
                        return Ok(());
                    }
                    h
                }
            }
        };
        let events =
            events::range(shared.fanout.pool(), &shared.codec, from, to, RANGE_CHUNK).await?;
        let last = events.last().map(|e| e.position).unwrap_or(to);
        let mut touched: Vec<Uuid> = events.iter().map(|e| e.ticket_id).collect();
        touched.sort_unstable();
        touched.dedup();
        let tickets = shared
            .fanout
            .tickets_by_ids(&touched)
            .await?
            .into_iter()
            .map(|(id, row)| (id, Arc::new(row)))
            .collect();
        let batch = Arc::new(Batch {
            to: last,
            events: events.into_iter().map(Arc::new).collect(),
            tickets,
        });
        metrics::counter!("ticketera_subscription_events_broadcast_total")
            .increment(batch.events.len() as u64);
        {
            let mut head = lock(&shared.head);
            // Only this task moves the head.
            let _ = shared.tx.send(batch);
            *head = Some(last);
        }
        if last >= to {
            return Ok(());
        }
    }
}
