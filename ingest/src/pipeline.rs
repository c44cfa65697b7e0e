//! The bounded queue between the listeners and the workers, and the workers:
//! parse → rules → correlation. Listeners only ever `push` (never wait);
//! what does not fit is dropped and counted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Mutex};

use crate::correlate::Correlator;
use crate::dead_letters::DeadLetters;
use crate::metrics::{metrics, DropReason};
use crate::parse::{fortigate_view, parse_syslog, text_of, Normalized, ParseContext, ParseError};
use crate::rules::{Decision, Quick, Rules};
use crate::service::RulesHandle;
use crate::Transport;

/// One syslog message as received.
#[derive(Debug, Clone)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub transport: Transport,
    pub peer: Option<SocketAddr>,
    pub received_at: DateTime<Utc>,
}

/// Messages travel in batches (one channel operation per socket read burst);
/// the queue is bounded in messages and in bytes.
#[derive(Clone)]
pub struct Queue {
    tx: mpsc::UnboundedSender<Vec<Message>>,
    depth: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
    capacity: usize,
    max_bytes: usize,
}

pub struct QueueReceiver {
    rx: Mutex<mpsc::UnboundedReceiver<Vec<Message>>>,
    depth: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
}

/// A queue of at most `capacity` messages and `max_bytes` bytes of them.
pub fn queue(capacity: usize, max_bytes: usize) -> (Queue, Arc<QueueReceiver>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let depth = Arc::new(AtomicUsize::new(0));
    let bytes = Arc::new(AtomicUsize::new(0));
    (
        Queue {
            tx,
            depth: depth.clone(),
            bytes: bytes.clone(),
            capacity,
            max_bytes,
        },
        Arc::new(QueueReceiver {
            rx: Mutex::new(rx),
            depth,
            bytes,
        }),
    )
}

fn bytes_of(batch: &[Message]) -> usize {
    batch.iter().map(|m| m.bytes.len()).sum()
}

impl Queue {
    /// Enqueues what fits of `batch` without waiting; the rest is dropped
    /// and counted (`queue_full` past the message bound, `queue_bytes_full`
    /// past the byte bound). Returns how many were dropped.
    pub fn push(&self, mut batch: Vec<Message>) -> usize {
        if batch.is_empty() {
            return 0;
        }
        let n = batch.len();
        let size = bytes_of(&batch);
        // Reserve the whole batch, then give back what does not fit: a
        // concurrent push may see the queue fuller than it ends up, never
        // emptier.
        let before = self.depth.fetch_add(n, Ordering::AcqRel);
        let before_bytes = self.bytes.fetch_add(size, Ordering::AcqRel);
        let room = self.capacity.saturating_sub(before);
        let mut room_bytes = self.max_bytes.saturating_sub(before_bytes);
        let mut fit_bytes = 0;
        for m in &batch {
            if m.bytes.len() > room_bytes {
                break;
            }
            room_bytes -= m.bytes.len();
            fit_bytes += 1;
        }
        let kept = room.min(fit_bytes);
        if kept < n {
            let dropped = n - kept;
            let dropped_bytes = bytes_of(&batch[kept..]);
            self.depth.fetch_sub(dropped, Ordering::AcqRel);
            self.bytes.fetch_sub(dropped_bytes, Ordering::AcqRel);
            batch.truncate(kept);
            let reason = if fit_bytes < room {
                DropReason::QueueBytesFull
            } else {
                DropReason::QueueFull
            };
            metrics().dropped(reason, dropped as u64);
        }
        let dropped = n - kept;
        if batch.is_empty() {
            return dropped;
        }
        let kept_bytes = bytes_of(&batch);
        if self.tx.send(batch).is_err() {
            // The workers are gone: the service is stopping.
            self.depth.fetch_sub(kept, Ordering::AcqRel);
            self.bytes.fetch_sub(kept_bytes, Ordering::AcqRel);
            metrics().dropped(DropReason::Shutdown, kept as u64);
            return n;
        }
        let m = metrics();
        m.queue_depth.set(self.depth.load(Ordering::Relaxed) as f64);
        m.queue_bytes.set(self.bytes.load(Ordering::Relaxed) as f64);
        dropped
    }

    /// Whether the queue is empty and would take all of `batch` (nothing
    /// of it dropped): then whoever holds it may as well handle it itself.
    pub fn would_take_whole(&self, batch: &[Message]) -> bool {
        self.depth() == 0
            && self.bytes() == 0
            && batch.len() <= self.capacity
            && bytes_of(batch) <= self.max_bytes
    }

    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Bytes of the messages waiting.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl QueueReceiver {
    async fn next(&self) -> Option<Vec<Message>> {
        let batch = self.rx.lock().await.recv().await?;
        let left = self.depth.fetch_sub(batch.len(), Ordering::AcqRel) - batch.len();
        let size = bytes_of(&batch);
        let left_bytes = self.bytes.fetch_sub(size, Ordering::AcqRel) - size;
        let m = metrics();
        m.queue_depth.set(left as f64);
        m.queue_bytes.set(left_bytes as f64);
        Some(batch)
    }
}

/// What ingest makes of one syslog message before the database: the
/// parsed event and the rules' decision, or why it cannot be parsed. The
/// workers and `ticketera parse` both call this.
pub fn read(
    bytes: &[u8],
    rules: &Rules,
    ctx: &ParseContext,
) -> Result<(Normalized, Decision), ParseError> {
    let event = parse_syslog(bytes, ctx)?;
    let decision = rules.decide(&event);
    Ok((event, decision))
}

/// The kind of decision [`read`] would make of a FortiGate message, from
/// its [`fortigate_view`]; None for other messages and unreadable ones.
pub fn quick(bytes: &[u8], rules: &Rules) -> Option<Quick> {
    let text = text_of(bytes);
    let view = fortigate_view(&text)?;
    Some(rules.quick(&view))
}

/// Parses and decides one batch; alerts go to the correlator (which never
/// makes the caller wait on the database), failures to the dead letters.
pub fn handle_batch(
    batch: Vec<Message>,
    rules: &RulesHandle,
    ctx: &ParseContext,
    correlator: &Correlator,
    dead: &DeadLetters,
) {
    let rules = rules.current();
    let (mut parsed, mut alerts, mut not_alert, mut suppressed) = (0u64, 0u64, 0u64, 0u64);
    for m in batch {
        // Most of a flood is FortiGate traffic logs that are not alerts:
        // decided from the message's borrowed pairs, no event built. An
        // alert (and anything else) takes the full reading.
        match quick(&m.bytes, &rules) {
            Some(Quick::NotAlert) => {
                parsed += 1;
                not_alert += 1;
                continue;
            }
            Some(Quick::Suppressed) => {
                parsed += 1;
                suppressed += 1;
                continue;
            }
            Some(Quick::Alert) | None => {}
        }
        match read(&m.bytes, &rules, ctx) {
            Ok((_, decision)) => {
                parsed += 1;
                match decision {
                    Decision::NotAlert { .. } => not_alert += 1,
                    Decision::Suppressed { .. } => suppressed += 1,
                    Decision::Alert(alert) => {
                        alerts += 1;
                        let channel = match m.transport {
                            Transport::Webhook => platform::event_store::Channel::Webhook,
                            _ => platform::event_store::Channel::Syslog,
                        };
                        correlator.submit(alert, channel, None);
                    }
                }
            }
            Err(e) => {
                metrics().dead_lettered(m.transport, 1);
                dead.push(
                    m.transport,
                    m.peer.map(|p| p.to_string()),
                    e.to_string(),
                    m.bytes,
                );
            }
        }
    }
    let m = metrics();
    m.parsed(parsed);
    m.alerts(alerts);
    m.not_alert(not_alert);
    m.suppressed(suppressed);
}

/// What handling a batch needs: the workers', and the UDP listener's when
/// it handles a burst itself (`listener::run_udp`).
#[derive(Clone)]
pub struct Handler {
    pub rules: RulesHandle,
    pub offset: chrono::FixedOffset,
    pub correlator: Correlator,
    pub dead: DeadLetters,
}

impl Handler {
    pub fn handle(&self, batch: Vec<Message>) {
        let ctx = ParseContext {
            default_offset: self.offset,
            now: Utc::now(),
        };
        handle_batch(batch, &self.rules, &ctx, &self.correlator, &self.dead);
    }
}

/// Runs one worker until the queue closes.
pub async fn worker(
    rx: Arc<QueueReceiver>,
    rules: RulesHandle,
    offset: chrono::FixedOffset,
    correlator: Correlator,
    dead: DeadLetters,
) {
    while let Some(batch) = rx.next().await {
        let ctx = ParseContext {
            default_offset: offset,
            now: Utc::now(),
        };
        handle_batch(batch, &rules, &ctx, &correlator, &dead);
        // Parsing is CPU work: let other tasks (receivers, HTTP) run between batches.
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize) -> Message {
        Message {
            bytes: vec![b'x'; len],
            transport: Transport::Udp,
            peer: None,
            received_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn the_queue_is_bounded_in_bytes_and_in_messages() {
        let (q, rx) = queue(4, 100);
        assert_eq!(q.push(vec![message(40), message(40), message(40)]), 1);
        assert_eq!((q.depth(), q.bytes()), (2, 80));
        // Room for 20 bytes: a small message still fits, a large one not.
        assert_eq!(q.push(vec![message(30)]), 1);
        assert_eq!(q.push(vec![message(10), message(10)]), 0);
        assert_eq!((q.depth(), q.bytes()), (4, 100));
        // Now the message bound is the one reached.
        assert_eq!(q.push(vec![message(0)]), 1);
        let first = rx.next().await.expect("a batch");
        assert_eq!(first.len(), 2);
        assert_eq!((q.depth(), q.bytes()), (2, 20));
    }
}
