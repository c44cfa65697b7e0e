//! Decoded event streams of the tickets read lately, for what folds a
//! ticket's past (`ticketAsOf`, the `changes` of `ticketHistory`).
//!
//! An auditor stepping through a long ticket's versions asks for the same
//! stream again and again; reading and decoding thousands of events each time
//! is most of the cost. Events never change once stored and a ticket's
//! sequences run 1, 2, 3… without gaps, so a cached stream of length `n` is
//! exactly its first `n` events: a request for a version at most `n` needs
//! no database at all, anything later reads only the tail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use platform::event_store::TicketStore;
use uuid::Uuid;

use crate::error::QueryResult;
use crate::events::EventRecord;

/// Events kept over all cached streams; the least recently used streams go
/// first beyond it (a long ticket is ~1 KiB an event).
const MAX_EVENTS: usize = 200_000;

struct Entry {
    events: Arc<Vec<EventRecord>>,
    used: u64,
}

#[derive(Default)]
struct Streams {
    by_ticket: HashMap<Uuid, Entry>,
    events: usize,
    clock: u64,
}

/// Shared by every request of the query API (cheap to clone).
#[derive(Clone, Default)]
pub struct HistoryCache {
    streams: Arc<Mutex<Streams>>,
}

impl HistoryCache {
    /// The ticket's stream from its first event through `through` (all of it
    /// when `None`, or when it is shorter).
    pub async fn through(
        &self,
        store: &TicketStore,
        id: Uuid,
        through: Option<u64>,
    ) -> QueryResult<Arc<Vec<EventRecord>>> {
        let cached = self.get(id);
        let have = cached.as_ref().map_or(0, |c| c.len() as u64);
        if let (Some(c), Some(wanted)) = (&cached, through) {
            if wanted <= have {
                return Ok(c.clone());
            }
        }
        let tail = store
            .history_page(id, (have > 0).then_some(have), i64::MAX, false)
            .await?;
        if tail.is_empty() {
            return Ok(cached.unwrap_or_default());
        }
        let mut events: Vec<EventRecord> = match &cached {
            Some(c) => Vec::with_capacity(c.len() + tail.len()),
            None => Vec::with_capacity(tail.len()),
        };
        if let Some(c) = &cached {
            events.extend(c.iter().cloned());
        }
        for e in tail {
            events.push(EventRecord::from_stored(e)?);
        }
        let events = Arc::new(events);
        self.put(id, events.clone());
        Ok(events)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Streams> {
        // A panic elsewhere leaves whole entries only: the poison is moot.
        self.streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, id: Uuid) -> Option<Arc<Vec<EventRecord>>> {
        let mut s = self.lock();
        s.clock += 1;
        let now = s.clock;
        s.by_ticket.get_mut(&id).map(|e| {
            e.used = now;
            e.events.clone()
        })
    }

    fn put(&self, id: Uuid, events: Arc<Vec<EventRecord>>) {
        let mut s = self.lock();
        if events.len() > MAX_EVENTS {
            return;
        }
        s.clock += 1;
        let used = s.clock;
        let added = events.len();
        if let Some(old) = s.by_ticket.insert(id, Entry { events, used }) {
            s.events -= old.events.len();
        }
        s.events += added;
        while s.events > MAX_EVENTS {
            let Some(oldest) = s
                .by_ticket
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(id, _)| *id)
            else {
                break;
            };
            if let Some(e) = s.by_ticket.remove(&oldest) {
                s.events -= e.events.len();
            }
        }
    }
}
