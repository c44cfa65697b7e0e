//! Subscription streams over the hub. Each is a small state machine (an
//! idle subscription holds a broadcast receiver and a few words); catch-up
//! work is boxed so that it costs memory only while it runs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::Stream;
use platform::position::Position;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use crate::error::QueryResult;
use crate::events::{self, EventRecord};
use crate::hub::{Batch, Hub};
use crate::store::{FilterSpec, TicketRow};
use crate::types::{TicketEventView, TicketView};

/// Events read from the feed per catch-up query.
const CATCH_UP_CHUNK: i64 = 500;
/// Pause before retrying a catch-up that failed (database unavailable).
const RETRY: Duration = Duration::from_secs(1);

/// Where a `ticketEvents` execution is in the feed, for the executions
/// several subscriptions share (crate::shared): where it started and the
/// position of the last event it handed out. A subscriber that falls
/// behind the shared one resumes from there on its own.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<Mutex<Marks>>);

#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    start: Option<Position>,
    at: Option<Position>,
}

impl Progress {
    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
    /// Where the execution began (once it subscribed to the hub).
    pub fn start(&self) -> Option<Position> {
        self.marks().start
    }
    /// The last event handed out, else where it began: everything at or
    /// before it is behind the execution.
    pub fn at(&self) -> Option<Position> {
        let m = self.marks();
        m.at.or(m.start)
    }
    fn begin(&self, at: Position) {
        self.marks().start = Some(at);
    }
    fn advance(&self, to: Position) {
        self.marks().at = Some(to);
    }
}

/// Request data: a `ticketEvents` without `afterPosition` resumes after
/// this position (a shared subscriber that fell behind, going on alone).
#[derive(Debug, Clone, Copy)]
pub struct ResumeAfter(pub Position);

struct EventsState {
    hub: Hub,
    rx: broadcast::Receiver<Arc<Batch>>,
    /// Everything at or before this position was delivered (or filtered out).
    last: Position,
    filter: Option<Arc<FilterSpec>>,
    pending: VecDeque<TicketEventView>,
    catching_up: bool,
    progress: Option<Progress>,
}

/// `ticketEvents`: catch up from the feed after `after` (when given), then live.
pub async fn ticket_events(
    hub: Hub,
    after: Option<Position>,
    filter: Option<FilterSpec>,
) -> QueryResult<impl Stream<Item = TicketEventView>> {
    ticket_events_with(hub, after, filter, None).await
}

/// `ticket_events`, reporting its progress to `progress` when given (an
/// execution several subscriptions share; their members are counted in
/// `ticketera_subscriptions_active`, not it).
pub async fn ticket_events_with(
    hub: Hub,
    after: Option<Position>,
    filter: Option<FilterSpec>,
    progress: Option<Progress>,
) -> QueryResult<impl Stream<Item = TicketEventView>> {
    // Subscribe first, then catch up: whatever is broadcast meanwhile is
    // received, and what the catch-up already delivered is skipped.
    let (rx, head) = hub.subscribe().await?;
    let state = EventsState {
        hub,
        rx,
        last: after.unwrap_or(head),
        filter: filter.filter(|f| !f.is_empty()).map(Arc::new),
        pending: VecDeque::new(),
        catching_up: after.is_some(),
        progress,
    };
    match &state.progress {
        Some(p) => p.begin(state.last),
        None => active_gauge().increment(1.0),
    }
    Ok(futures::stream::unfold(
        Guarded(state),
        |mut st| async move { next_event(&mut st.0).await.map(|item| (item, st)) },
    ))
}

/// Decrements the gauge when the subscription ends.
struct Guarded(EventsState);

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.0.progress.is_none() {
            active_gauge().decrement(1.0);
        }
    }
}

/// Live `ticketEvents` subscriptions (a shared execution counts its members).
pub(crate) fn active_gauge() -> metrics::Gauge {
    metrics::gauge!("ticketera_subscriptions_active", "kind" => "ticket_events")
}

async fn next_event(st: &mut EventsState) -> Option<TicketEventView> {
    loop {
        if let Some(item) = st.pending.pop_front() {
            if let Some(p) = &st.progress {
                p.advance(item.record.position);
            }
            return Some(item);
        }
        if st.catching_up {
            match Box::pin(catch_up_chunk(st)).await {
                Ok(more) => st.catching_up = more,
                Err(e) => {
                    tracing::warn!(error = %e, "subscription catch-up failed; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
            continue;
        }
        match st.rx.recv().await {
            Ok(batch) => {
                if let Err(e) = Box::pin(take_batch(st, &batch)).await {
                    // Could not evaluate the filter: resync from the feed.
                    tracing::warn!(error = %e, "subscription filter failed; resyncing");
                    st.catching_up = true;
                }
            }
            Err(RecvError::Lagged(n)) => {
                metrics::counter!("ticketera_subscription_lagged_total").increment(1);
                tracing::debug!(skipped = n, "subscriber lagged; resyncing from the feed");
                st.catching_up = true;
            }
            Err(RecvError::Closed) => return None,
        }
    }
}

/// Reads one chunk of the feed after `last`; whether there may be more.
async fn catch_up_chunk(st: &mut EventsState) -> QueryResult<bool> {
    let read = st.hub.read_models();
    let chunk = events::after(read.pool(), st.hub.codec(), st.last, CATCH_UP_CHUNK).await?;
    let Some(last) = chunk.last().map(|e| e.position) else {
        return Ok(false);
    };
    let more = chunk.len() as i64 == CATCH_UP_CHUNK;
    let events: Vec<Arc<EventRecord>> = chunk.into_iter().map(Arc::new).collect();
    let rows = match &st.filter {
        Some(_) => {
            let mut ids: Vec<Uuid> = events.iter().map(|e| e.ticket_id).collect();
            ids.sort_unstable();
            ids.dedup();
            read.tickets_by_ids(&ids)
                .await?
                .into_iter()
                .map(|(id, r)| (id, Arc::new(r)))
                .collect()
        }
        None => HashMap::new(),
    };
    let matched = matching(st, &events, &rows).await?;
    for e in events {
        if matched(&e) {
            let ticket = rows.get(&e.ticket_id).cloned();
            st.pending.push_back(TicketEventView::new(e, ticket));
        }
    }
    st.last = last;
    Ok(more)
}

async fn take_batch(st: &mut EventsState, batch: &Batch) -> QueryResult<()> {
    let fresh: Vec<Arc<EventRecord>> = batch
        .events
        .iter()
        .filter(|e| e.position > st.last)
        .cloned()
        .collect();
    if !fresh.is_empty() {
        let matched = matching(st, &fresh, &batch.tickets).await?;
        for e in fresh {
            if matched(&e) {
                let ticket = batch.tickets.get(&e.ticket_id).cloned();
                st.pending.push_back(TicketEventView::new(e, ticket));
            }
        }
    }
    if batch.to > st.last {
        st.last = batch.to;
    }
    Ok(())
}

/// A predicate over `events` for the subscription's filter: structured
/// criteria against the rows, free text through Postgres.
async fn matching(
    st: &EventsState,
    events: &[Arc<EventRecord>],
    rows: &HashMap<Uuid, Arc<TicketRow>>,
) -> QueryResult<impl Fn(&EventRecord) -> bool> {
    let Some(filter) = st.filter.clone() else {
        return Ok(Box::new(|_: &EventRecord| true) as Box<dyn Fn(&EventRecord) -> bool + Send>);
    };
    let only_ids = FilterSpec {
        ids: filter.ids.clone(),
        ..FilterSpec::default()
    } == *filter;
    if only_ids {
        return Ok(Box::new(move |e: &EventRecord| {
            filter.ids.contains(&e.ticket_id)
        }));
    }
    let mut ok: Vec<Uuid> = events
        .iter()
        .map(|e| e.ticket_id)
        .filter(|id| rows.get(id).is_some_and(|r| filter.matches_structured(r)))
        .collect();
    ok.sort_unstable();
    ok.dedup();
    if filter.text.is_some() && !ok.is_empty() {
        ok = st.hub.read_models().matching_ids(&ok, &filter).await?;
    }
    Ok(Box::new(move |e: &EventRecord| ok.contains(&e.ticket_id)))
}

struct UpdatedState {
    hub: Hub,
    rx: broadcast::Receiver<Arc<Batch>>,
    id: Uuid,
    version: i64,
    /// Re-read the row (first delivery, or after lagging).
    reread: bool,
}

/// `ticketUpdated`: the ticket's read-model row each time a batch touched it.
pub async fn ticket_updated(
    hub: Hub,
    id: Uuid,
    after_version: Option<i64>,
) -> QueryResult<impl Stream<Item = TicketView>> {
    let (rx, _) = hub.subscribe().await?;
    let state = UpdatedState {
        hub,
        rx,
        id,
        version: after_version.unwrap_or(i64::MAX),
        reread: after_version.is_some(),
    };
    Ok(futures::stream::unfold(state, |mut st| async move {
        next_update(&mut st).await.map(|t| (t, st))
    }))
}

async fn next_update(st: &mut UpdatedState) -> Option<TicketView> {
    loop {
        if st.reread {
            match Box::pin(st.hub.read_models().ticket_by_id(st.id)).await {
                Ok(row) => {
                    st.reread = false;
                    if let Some(view) = newer(st, row.as_ref()) {
                        return Some(view);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "ticketUpdated re-read failed; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
            continue;
        }
        match st.rx.recv().await {
            Ok(batch) => {
                if let Some(view) = newer(st, batch.tickets.get(&st.id).map(|r| r.as_ref())) {
                    return Some(view);
                }
            }
            Err(RecvError::Lagged(_)) => {
                metrics::counter!("ticketera_subscription_lagged_total").increment(1);
                st.reread = true;
            }
            Err(RecvError::Closed) => return None,
        }
    }
}

fn newer(st: &mut UpdatedState, row: Option<&TicketRow>) -> Option<TicketView> {
    let row = row?;
    // i64::MAX: no version known yet, so anything the batches bring is news.
    if st.version != i64::MAX && row.version <= st.version {
        return None;
    }
    match TicketView::from_row(row) {
        Ok(view) => {
            st.version = row.version;
            Some(view)
        }
        Err(e) => {
            tracing::warn!(error = %e, "ticketUpdated: unreadable row");
            None
        }
    }
}
