//! Ingest metrics: every message is counted where it ends (an alert, not an
//! alert, suppressed, dead-lettered or dropped with its reason), so
//! `received = parsed + dead_lettered + dropped{reason = queue_full |
//! queue_bytes_full | frame_too_large | bad_frame | shutdown |
//! sender_not_allowed | peer_rate_limited}` (summed over transports) can be
//! checked from `/metrics` alone. The other drop reasons count something
//! else: `too_many_connections` and `connection_not_allowed` count TCP
//! connections closed before a byte was read; `store_error` alerts
//! (parsed), and `dead_letter_queue_full` letters (dead-lettered) that were
//! not stored.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, gauge, Counter, Gauge};

use crate::Transport;

/// Why a message was dropped before it was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The queue between the listeners and the workers was full.
    QueueFull,
    /// A TCP frame longer than the configured maximum.
    FrameTooLarge,
    /// A TCP frame that was not valid octet counting (bad length).
    BadFrame,
    /// The dead-letter writer could not keep up (the message is counted as
    /// dead-lettered by reason, but not stored).
    DeadLetterQueueFull,
    /// Alerts that could not be written to a ticket (the database refused
    /// or was unavailable after retries).
    StoreError,
    /// The service stopped with alerts still pending.
    Shutdown,
    /// The bytes waiting in the queue would pass its byte bound.
    QueueBytesFull,
    /// A datagram from an address outside the allowed sender networks.
    SenderNotAllowed,
    /// A message over its sender's rate.
    PeerRateLimited,
    /// A TCP connection over its sender's connection cap (counts connections).
    TooManyConnections,
    /// A TCP connection from outside the allowed sender networks (counts
    /// connections).
    ConnectionNotAllowed,
}

impl DropReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::FrameTooLarge => "frame_too_large",
            DropReason::BadFrame => "bad_frame",
            DropReason::DeadLetterQueueFull => "dead_letter_queue_full",
            DropReason::StoreError => "store_error",
            DropReason::Shutdown => "shutdown",
            DropReason::QueueBytesFull => "queue_bytes_full",
            DropReason::SenderNotAllowed => "sender_not_allowed",
            DropReason::PeerRateLimited => "peer_rate_limited",
            DropReason::TooManyConnections => "too_many_connections",
            DropReason::ConnectionNotAllowed => "connection_not_allowed",
        }
    }
}

/// Handles registered once: incrementing one is an atomic add.
pub struct IngestMetrics {
    received: [Counter; 3],
    parsed: Counter,
    alerts: Counter,
    not_alert: Counter,
    suppressed: Counter,
    dead_lettered: [Counter; 3],
    dropped: [Counter; 11],
    pub queue_depth: Gauge,
    pub queue_bytes: Gauge,
    pub storm_alerts: Counter,
    pub correlation_fingerprints: Gauge,
    pub tickets_opened: Counter,
    pub alerts_correlated: Counter,
    pub correlation_events: Counter,
    pub siem_updates: Counter,
    pub rules_reloads_ok: Counter,
    pub rules_reloads_failed: Counter,
    pub udp_rcvbuf_errors: Gauge,
    pub udp_in_errors: Gauge,
}

const TRANSPORTS: [Transport; 3] = [Transport::Udp, Transport::Tcp, Transport::Webhook];
const REASONS: [DropReason; 11] = [
    DropReason::QueueFull,
    DropReason::FrameTooLarge,
    DropReason::BadFrame,
    DropReason::DeadLetterQueueFull,
    DropReason::StoreError,
    DropReason::Shutdown,
    DropReason::QueueBytesFull,
    DropReason::SenderNotAllowed,
    DropReason::PeerRateLimited,
    DropReason::TooManyConnections,
    DropReason::ConnectionNotAllowed,
];

fn transport_index(t: Transport) -> usize {
    match t {
        Transport::Udp => 0,
        Transport::Tcp => 1,
        Transport::Webhook => 2,
    }
}

static METRICS: OnceLock<IngestMetrics> = OnceLock::new();

/// The process-wide ingest metrics (the Prometheus recorder is installed first).
pub fn metrics() -> &'static IngestMetrics {
    METRICS.get_or_init(|| {
        let _ = platform::telemetry::metrics();
        describe();
        IngestMetrics {
            received: TRANSPORTS.map(|t| counter!("ticketera_ingest_received_total", "transport" => t.as_str())),
            parsed: counter!("ticketera_ingest_parsed_total"),
            alerts: counter!("ticketera_ingest_alerts_total"),
            not_alert: counter!("ticketera_ingest_not_alert_total"),
            suppressed: counter!("ticketera_ingest_suppressed_total"),
            dead_lettered: TRANSPORTS
                .map(|t| counter!("ticketera_ingest_dead_lettered_total", "transport" => t.as_str())),
            dropped: REASONS.map(|r| counter!("ticketera_ingest_dropped_total", "reason" => r.as_str())),
            queue_depth: gauge!("ticketera_ingest_queue_depth"),
            queue_bytes: gauge!("ticketera_ingest_queue_bytes"),
            storm_alerts: counter!("ticketera_ingest_storm_alerts_total"),
            correlation_fingerprints: gauge!("ticketera_ingest_correlation_fingerprints"),
            tickets_opened: counter!("ticketera_ingest_tickets_opened_total"),
            alerts_correlated: counter!("ticketera_ingest_alerts_correlated_total"),
            correlation_events: counter!("ticketera_ingest_correlation_events_total"),
            siem_updates: counter!("ticketera_ingest_siem_updates_total"),
            rules_reloads_ok: counter!("ticketera_ingest_rules_reloads_total", "outcome" => "ok"),
            rules_reloads_failed: counter!("ticketera_ingest_rules_reloads_total", "outcome" => "refused"),
            udp_rcvbuf_errors: gauge!("ticketera_ingest_udp_rcvbuf_errors"),
            udp_in_errors: gauge!("ticketera_ingest_udp_in_errors"),
        }
    })
}

fn describe() {
    describe_counter!(
        "ticketera_ingest_received_total",
        "Syslog messages and webhook bodies received, by transport"
    );
    describe_counter!(
        "ticketera_ingest_parsed_total",
        "Messages parsed into a normalized event"
    );
    describe_counter!(
        "ticketera_ingest_alerts_total",
        "Parsed events the rules made alerts"
    );
    describe_counter!(
        "ticketera_ingest_not_alert_total",
        "Parsed events no rule made an alert (counted, dropped)"
    );
    describe_counter!(
        "ticketera_ingest_suppressed_total",
        "Parsed events a suppression matched (counted, dropped)"
    );
    describe_counter!(
        "ticketera_ingest_dead_lettered_total",
        "Messages that could not be parsed, by transport"
    );
    describe_counter!(
        "ticketera_ingest_dropped_total",
        "Messages or alerts dropped, by reason"
    );
    describe_gauge!(
        "ticketera_ingest_queue_depth",
        "Messages waiting between the listeners and the workers"
    );
    describe_gauge!(
        "ticketera_ingest_queue_bytes",
        "Bytes of the messages waiting between the listeners and the workers"
    );
    describe_counter!(
        "ticketera_ingest_storm_alerts_total",
        "Alerts put into a storm ticket (their rule had opened its tickets for the interval, or the correlator followed its most fingerprints)"
    );
    describe_gauge!(
        "ticketera_ingest_correlation_fingerprints",
        "Fingerprints the correlator follows now"
    );
    describe_counter!(
        "ticketera_ingest_tickets_opened_total",
        "Tickets opened from alerts (storm tickets included)"
    );
    describe_counter!(
        "ticketera_ingest_alerts_correlated_total",
        "Alerts added to an existing ticket"
    );
    describe_counter!(
        "ticketera_ingest_correlation_events_total",
        "AlertsCorrelated events appended (one per batch)"
    );
    describe_counter!(
        "ticketera_ingest_siem_updates_total",
        "SIEM incident re-sends recorded on their ticket"
    );
    describe_counter!(
        "ticketera_ingest_rules_reloads_total",
        "Rules reloads by outcome"
    );
    describe_gauge!(
        "ticketera_ingest_udp_rcvbuf_errors",
        "The kernel's UDP receive-buffer errors (/proc/net/snmp Udp RcvbufErrors), host-wide"
    );
    describe_gauge!(
        "ticketera_ingest_udp_in_errors",
        "The kernel's UDP input errors (/proc/net/snmp Udp InErrors), host-wide"
    );
}

impl IngestMetrics {
    pub fn received(&self, t: Transport, n: u64) {
        self.received[transport_index(t)].increment(n);
    }
    pub fn parsed(&self, n: u64) {
        self.parsed.increment(n);
    }
    pub fn alerts(&self, n: u64) {
        self.alerts.increment(n);
    }
    pub fn not_alert(&self, n: u64) {
        self.not_alert.increment(n);
    }
    pub fn suppressed(&self, n: u64) {
        self.suppressed.increment(n);
    }
    pub fn dead_lettered(&self, t: Transport, n: u64) {
        self.dead_lettered[transport_index(t)].increment(n);
    }
    pub fn dropped(&self, reason: DropReason, n: u64) {
        let i = REASONS.iter().position(|r| *r == reason).unwrap_or(0);
        self.dropped[i].increment(n);
    }
}

/// `Udp:` counters of `/proc/net/snmp` by name.
pub fn kernel_udp_counters() -> Option<Vec<(String, u64)>> {
    let text = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
    let names = udp.next()?;
    let values = udp.next()?;
    Some(
        names
            .split_whitespace()
            .skip(1)
            .zip(values.split_whitespace().skip(1))
            .filter_map(|(n, v)| Some((n.to_string(), v.parse().ok()?)))
            .collect(),
    )
}

pub fn kernel_udp_counter(name: &str) -> Option<u64> {
    kernel_udp_counters()?
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Exports the kernel's UDP error counters every second.
pub async fn export_kernel_udp_errors(shutdown: platform::http::shutdown::Shutdown) {
    let m = metrics();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Some(c) = kernel_udp_counters() {
            for (name, v) in c {
                match name.as_str() {
                    "RcvbufErrors" => m.udp_rcvbuf_errors.set(v as f64),
                    "InErrors" => m.udp_in_errors.set(v as f64),
                    _ => {}
                }
            }
        }
    }
}
