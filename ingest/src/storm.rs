//! Storm protection: one rule opens at most N tickets per interval. Its
//! further new alerts are not dropped: they go into one storm ticket per
//! rule and interval (its own fingerprint, so Postgres keeps it one ticket
//! across processes too), counted in `ticketera_ingest_storm_alerts_total`,
//! with samples kept like any correlated alert.
//!
//! "Rule" is the rules-file rule that matched (`matched_rule`), not the
//! vendor's signature: the senders choose signatures, the operators choose
//! rules, so the number of storm tickets per interval is bounded by the
//! rules file.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::rules::Alert;

/// Fingerprints of storm tickets start with this (real ones are hex digests).
pub const STORM_KEY_PREFIX: &str = "storm:";
/// The tag every storm ticket carries.
pub const STORM_TAG: &str = "storm";

#[derive(Debug, Clone, Copy)]
pub struct StormLimits {
    /// Tickets one rule may open per interval.
    pub tickets_per_rule: u64,
    pub interval: Duration,
}

pub fn is_storm_key(fingerprint: &str) -> bool {
    fingerprint.starts_with(STORM_KEY_PREFIX)
}

/// The interval holding `now`, aligned on the epoch (so every process agrees).
pub fn interval_start(now: DateTime<Utc>, interval: Duration) -> DateTime<Utc> {
    let secs = interval.as_secs().max(1) as i64;
    let start = now.timestamp().div_euclid(secs) * secs;
    Utc.timestamp_opt(start, 0).single().unwrap_or(now)
}

/// Tickets opened per rule in the current interval.
pub struct Budget {
    limits: StormLimits,
    opened: HashMap<String, (DateTime<Utc>, u64)>,
}

/// Rules remembered at most (more only after a rules reload renamed them);
/// beyond it, rules of past intervals are forgotten.
const RULES_REMEMBERED: usize = 1_024;

impl Budget {
    pub fn new(limits: StormLimits) -> Self {
        Budget {
            limits,
            opened: HashMap::new(),
        }
    }

    pub fn limits(&self) -> StormLimits {
        self.limits
    }

    /// Takes one ticket of `rule`'s budget for the interval of `now`;
    /// false when the rule has opened its tickets for this interval.
    pub fn take(&mut self, rule: &str, now: DateTime<Utc>) -> bool {
        let start = interval_start(now, self.limits.interval);
        if self.opened.len() >= RULES_REMEMBERED && !self.opened.contains_key(rule) {
            self.opened.retain(|_, (s, _)| *s == start);
        }
        let (at, count) = self.opened.entry(rule.to_string()).or_insert((start, 0));
        if *at != start {
            *at = start;
            *count = 0;
        }
        if *count >= self.limits.tickets_per_rule {
            return false;
        }
        *count += 1;
        true
    }
}

/// The alert a storm ticket opens with: `alert`'s rule, severity, vendor and
/// raw message, under the storm's fingerprint and title; the addresses,
/// host and user are left out (they are one sender's of many).
pub fn storm_alert(alert: &Alert, now: DateTime<Utc>, limits: StormLimits) -> Alert {
    let start = interval_start(now, limits.interval);
    let rule = alert.matched_rule.replace(['\n', '\t', '\r'], " ");
    let mut storm = alert.clone();
    storm.rule_name = format!(
        "Alert storm: {rule} ({} UTC, {} s)",
        start.format("%Y-%m-%d %H:%M:%S"),
        limits.interval.as_secs()
    );
    storm.fingerprint = format!("{STORM_KEY_PREFIX}{}:{rule}", start.timestamp());
    storm.source_ip = None;
    storm.destination_ip = None;
    storm.source_port = None;
    storm.destination_port = None;
    storm.host = None;
    storm.user = None;
    storm.keyed_by_incident = false;
    storm.incident_id = None;
    storm.incident_status = None;
    storm.repeat_count = None;
    storm.message = format!(
        "Alert storm: rule '{rule}' opened {} tickets in the interval starting {} UTC \
         ({} s); its further new alerts of the interval are counted on this ticket \
         (with samples) instead of opening one each.",
        limits.tickets_per_rule,
        start.format("%Y-%m-%d %H:%M:%S"),
        limits.interval.as_secs()
    );
    storm
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: u64) -> StormLimits {
        StormLimits {
            tickets_per_rule: n,
            interval: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_rule_opens_n_tickets_per_interval() {
        let mut b = Budget::new(limits(2));
        let t = Utc
            .with_ymd_and_hms(2026, 12, 2, 10, 0, 5)
            .single()
            .expect("time");
        assert!(b.take("r", t));
        assert!(b.take("r", t));
        assert!(!b.take("r", t));
        // Another rule has its own budget.
        assert!(b.take("other", t));
        // The next interval starts afresh.
        assert!(b.take("r", t + chrono::Duration::seconds(60)));
    }

    #[test]
    fn intervals_are_aligned_on_the_epoch() {
        let t = Utc
            .with_ymd_and_hms(2026, 12, 2, 10, 0, 59)
            .single()
            .expect("time");
        let s = interval_start(t, Duration::from_secs(60));
        assert_eq!(
            s,
            Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
                .single()
                .expect("time")
        );
    }
}
