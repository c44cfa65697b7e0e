//! Who may send syslog, and how much: the allowed sender networks, a
//! message rate per sender address and a TCP connection cap per sender
//! address. The listeners ask before queueing anything, so a sender that is
//! refused costs a lookup, not a parse or a ticket.
//!
//! Everything here is keyed by the sender's IP address (not the port: UDP
//! senders change ports, and one host opening many connections is one
//! sender). What is remembered per address is bounded: see [`PeerRates`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnetwork::IpNetwork;

/// Sender addresses whose rate is followed one by one; senders beyond it
/// share one bucket (so a flood from spoofed addresses gets one sender's
/// rate in all, and the senders already followed keep theirs).
pub const PEERS_FOLLOWED_MAX: usize = 65_536;

/// The limits the listeners apply, shared by all of them.
#[derive(Clone)]
pub struct Senders {
    allowed: Arc<Vec<IpNetwork>>,
    rates: Arc<Mutex<PeerRates>>,
    connections: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_connections: usize,
}

/// The same host whether it came over IPv4 or as an IPv4-mapped IPv6 address.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl Senders {
    /// `allowed` empty: everyone. `rate` in messages per second per sender.
    pub fn new(allowed: Vec<IpNetwork>, rate: u64, max_connections: usize) -> Self {
        Senders {
            allowed: Arc::new(allowed),
            rates: Arc::new(Mutex::new(PeerRates::new(rate, PEERS_FOLLOWED_MAX))),
            connections: Arc::new(Mutex::new(HashMap::new())),
            max_connections: max_connections.max(1),
        }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allowed.is_empty() || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// Keeps the items of `batch` whose sender is allowed and within its
    /// rate (one lock for the batch); says how many were refused for each.
    pub fn filter<T>(&self, batch: &mut Vec<T>, ip_of: impl Fn(&T) -> Option<IpAddr>) -> Refused {
        let mut refused = Refused::default();
        let now = Instant::now();
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        batch.retain(|item| {
            let Some(ip) = ip_of(item).map(canonical) else {
                return true;
            };
            if !self.allows(ip) {
                refused.not_allowed += 1;
                return false;
            }
            if rates.take(ip, 1, now) == 0 {
                refused.rate_limited += 1;
                return false;
            }
            true
        });
        refused
    }

    /// A connection slot of `ip`, or None when it holds its cap already.
    /// The slot is given back when the guard is dropped.
    pub fn connect(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let ip = canonical(ip);
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let held = c.entry(ip).or_insert(0);
        if *held >= self.max_connections {
            return None;
        }
        *held += 1;
        Some(ConnectionSlot {
            ip,
            connections: self.connections.clone(),
        })
    }
}

/// Messages [`Senders::filter`] refused, by reason.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub not_allowed: u64,
    pub rate_limited: u64,
}

/// One TCP connection of a sender; dropping it frees the slot.
pub struct ConnectionSlot {
    ip: IpAddr,
    connections: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = c.get_mut(&self.ip) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                c.remove(&self.ip);
            }
        }
    }
}

/// A token bucket: `rate` tokens a second, holding at most `rate`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: f64, now: Instant) -> Self {
        Bucket {
            tokens: rate,
            at: now,
        }
    }

    fn refill(&mut self, rate: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at = now;
    }

    fn take(&mut self, n: u64, rate: f64, now: Instant) -> u64 {
        self.refill(rate, now);
        let granted = (self.tokens.floor() as u64).min(n);
        self.tokens -= granted as f64;
        granted
    }
}

/// Token buckets per sender address, at most `max` of them. When the map is
/// full, buckets that have refilled (their sender was quiet for a second:
/// forgetting them changes nothing) are swept, at most once a second; if it
/// is still full, new senders share the overflow bucket.
pub struct PeerRates {
    rate: f64,
    max: usize,
    buckets: HashMap<IpAddr, Bucket>,
    overflow: Bucket,
    last_sweep: Option<Instant>,
}

impl PeerRates {
    pub fn new(rate: u64, max: usize) -> Self {
        let rate = rate.max(1) as f64;
        PeerRates {
            rate,
            max: max.max(1),
            buckets: HashMap::new(),
            overflow: Bucket::full(rate, Instant::now()),
            last_sweep: None,
        }
    }

    /// Takes up to `n` tokens of `ip`'s bucket; how many it got.
    pub fn take(&mut self, ip: IpAddr, n: u64, now: Instant) -> u64 {
        let rate = self.rate;
        if let Some(b) = self.buckets.get_mut(&ip) {
            return b.take(n, rate, now);
        }
        if self.buckets.len() >= self.max {
            self.sweep(now);
        }
        if self.buckets.len() >= self.max {
            return self.overflow.take(n, rate, now);
        }
        self.buckets
            .entry(ip)
            .or_insert_with(|| Bucket::full(rate, now))
            .take(n, rate, now)
    }

    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.last_sweep = Some(now);
        let rate = self.rate;
        self.buckets.retain(|_, b| {
            let mut b = *b;
            b.refill(rate, now);
            b.tokens < rate
        });
    }

    pub fn followed(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_sender_gets_its_rate_and_refills() {
        let t0 = Instant::now();
        let mut r = PeerRates::new(10, 100);
        assert_eq!(r.take(ip("10.0.0.1"), 25, t0), 10);
        assert_eq!(r.take(ip("10.0.0.1"), 1, t0), 0);
        // Another sender is not held back by the first.
        assert_eq!(r.take(ip("10.0.0.2"), 3, t0), 3);
        assert_eq!(
            r.take(ip("10.0.0.1"), 25, t0 + Duration::from_millis(500)),
            5
        );
    }

    #[test]
    fn senders_beyond_the_bound_share_one_bucket() {
        let t0 = Instant::now();
        let mut r = PeerRates::new(10, 2);
        assert_eq!(r.take(ip("10.0.0.1"), 10, t0), 10);
        assert_eq!(r.take(ip("10.0.0.2"), 10, t0), 10);
        // Full, and nobody has refilled: the newcomers share the overflow.
        assert_eq!(r.take(ip("10.0.0.3"), 6, t0), 6);
        assert_eq!(r.take(ip("10.0.0.4"), 6, t0), 4);
        assert_eq!(r.followed(), 2);
        // A second later the quiet ones are forgotten and newcomers followed.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(r.take(ip("10.0.0.5"), 10, later), 10);
        assert!(r.followed() <= 2);
    }

    #[test]
    fn allowed_networks_and_mapped_addresses() {
        let s = Senders::new(vec!["10.1.0.0/16".parse().expect("net")], 10, 2);
        assert!(s.allows(ip("10.1.2.3")));
        assert!(s.allows(ip("::ffff:10.1.2.3")));
        assert!(!s.allows(ip("10.2.0.1")));
        assert!(Senders::new(vec![], 10, 2).allows(ip("192.0.2.1")));
    }

    #[test]
    fn a_batch_keeps_the_allowed_within_their_rate() {
        let s = Senders::new(vec!["10.0.0.0/8".parse().expect("net")], 2, 2);
        let mut batch = vec!["10.0.0.1", "192.0.2.1", "10.0.0.1", "10.0.0.1", "10.0.0.2"]
            .into_iter()
            .map(ip)
            .collect::<Vec<_>>();
        let refused = s.filter(&mut batch, |i| Some(*i));
        assert_eq!(
            refused,
            Refused {
                not_allowed: 1,
                rate_limited: 1
            }
        );
        assert_eq!(batch, vec![ip("10.0.0.1"), ip("10.0.0.1"), ip("10.0.0.2")]);
    }

    #[test]
    fn connection_slots_per_sender() {
        let s = Senders::new(vec![], 10, 2);
        let a = s.connect(ip("10.0.0.1")).expect("first");
        let _b = s.connect(ip("10.0.0.1")).expect("second");
        assert!(s.connect(ip("10.0.0.1")).is_none());
        assert!(s.connect(ip("10.0.0.2")).is_some());
        drop(a);
        assert!(s.connect(ip("10.0.0.1")).is_some());
    }
}
