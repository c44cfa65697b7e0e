//! The `stats` projection: dashboard counters.
//!
//! - `open_by_status_severity`: tickets in an open status (NEW, IN_PROGRESS,
//!   ON_HOLD) by status and severity; a row exists only while its count is
//!   above zero.
//! - `daily`: per UTC day of the event, tickets opened, resolutions (every
//!   `TicketResolved`, a reopened ticket resolved again counts again),
//!   acknowledgements (a ticket's first WorkStarted or resolution, once) and
//!   the sums of whole seconds from creation to each: mean time to
//!   acknowledge = `ack_seconds_sum / acknowledged`, to resolve =
//!   `resolve_seconds_sum / resolved`.
//! - `rules`: per alert rule, tickets opened from it and the sum of their
//!   alert counts (top alert rules).
//! - `alerts_hourly`: alerts per UTC hour of the event that carried them
//!   (ingest throughput): a ticket opened from an alert is one, a
//!   correlated batch its `count`, a SIEM incident update one.
//! - `ticket_state`: what the counters need to know of each ticket.
//!
//! A batch folds its events into deltas in memory and adds them with one
//! statement per table. Counters are integers (whole seconds included), so
//! they add up the same whatever the batch boundaries: an incremental run
//! and a rebuild agree exactly.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use domain::{Severity, Status, TicketEvent};
use platform::event_store::StoredEvent;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::error::ProjectorError;
use crate::tickets::{micros, ticket_id};

const PROJECTION: &str = "stats";

#[derive(Debug, Clone)]
struct TicketState {
    status: Status,
    severity: Severity,
    rule_name: Option<String>,
    created_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    alert_count: i64,
    dirty: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Daily {
    opened: i64,
    resolved: i64,
    acknowledged: i64,
    ack_seconds: i64,
    resolve_seconds: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct RuleDelta {
    tickets: i64,
    alerts: i64,
}

/// Ticket states a batch touches and the counter deltas it adds.
#[derive(Default)]
pub(crate) struct StatsModel {
    states: HashMap<Uuid, TicketState>,
    // Ordered maps: statements touch rows in one order, so two writers can
    // never deadlock on them.
    open: BTreeMap<(Status, Severity), i64>,
    daily: BTreeMap<NaiveDate, Daily>,
    rules: BTreeMap<String, RuleDelta>,
    alerts: BTreeMap<DateTime<Utc>, i64>,
}

fn whole_seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl StatsModel {
    pub(crate) fn missing(&self, events: &[StoredEvent]) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = events
            .iter()
            .filter(|e| !matches!(e.payload, TicketEvent::TicketOpened { .. }))
            .filter_map(ticket_id)
            .filter(|id| !self.states.contains_key(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub(crate) async fn load(
        &mut self,
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<(), ProjectorError> {
        if ids.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT ticket_id, status, severity, rule_name, created_at, acknowledged_at, alert_count
               FROM ticket_state WHERE ticket_id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(conn)
        .await?;
        for row in &rows {
            let word = |column: &str| -> Result<String, ProjectorError> {
                Ok(row.try_get::<String, _>(column)?)
            };
            let bad = |column: &str, e: domain::UnknownValue| ProjectorError::Inconsistent {
                projection: PROJECTION,
                reason: format!("ticket_state.{column}: {e}"),
            };
            let id: Uuid = row.try_get("ticket_id")?;
            self.states.insert(
                id,
                TicketState {
                    status: word("status")?.parse().map_err(|e| bad("status", e))?,
                    severity: word("severity")?.parse().map_err(|e| bad("severity", e))?,
                    rule_name: row.try_get("rule_name")?,
                    created_at: row.try_get("created_at")?,
                    acknowledged_at: row.try_get("acknowledged_at")?,
                    alert_count: row.try_get("alert_count")?,
                    dirty: false,
                },
            );
        }
        Ok(())
    }

    fn move_open(&mut self, from: Option<(Status, Severity)>, to: Option<(Status, Severity)>) {
        if from == to {
            return;
        }
        if let Some(key) = from.filter(|(s, _)| s.is_open()) {
            *self.open.entry(key).or_default() -= 1;
        }
        if let Some(key) = to.filter(|(s, _)| s.is_open()) {
            *self.open.entry(key).or_default() += 1;
        }
    }

    fn day(&mut self, at: DateTime<Utc>) -> &mut Daily {
        self.daily.entry(at.date_naive()).or_default()
    }

    fn alerts_at(&mut self, at: DateTime<Utc>, n: i64) {
        // Truncating to the hour cannot fail for any time an event can hold.
        let hour = at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at);
        *self.alerts.entry(hour).or_default() += n;
    }

    pub(crate) fn apply(&mut self, e: &StoredEvent) -> Result<(), ProjectorError> {
        let Some(id) = ticket_id(e) else {
            return Ok(());
        };
        let at = micros(e.payload.at());
        if let TicketEvent::TicketOpened {
            severity, origin, ..
        } = &e.payload
        {
            if self.states.contains_key(&id) {
                return Err(ProjectorError::Inconsistent {
                    projection: PROJECTION,
                    reason: format!("ticket {id} opened again at sequence {}", e.sequence),
                });
            }
            let rule_name = origin.as_ref().and_then(|o| o.rule_name.clone());
            let alert_count = i64::from(origin.is_some());
            self.states.insert(
                id,
                TicketState {
                    status: Status::New,
                    severity: *severity,
                    rule_name: rule_name.clone(),
                    created_at: at,
                    acknowledged_at: None,
                    alert_count,
                    dirty: true,
                },
            );
            self.move_open(None, Some((Status::New, *severity)));
            self.day(at).opened += 1;
            if alert_count > 0 {
                self.alerts_at(at, alert_count);
            }
            if let Some(rule) = rule_name {
                let r = self.rules.entry(rule).or_default();
                r.tickets += 1;
                r.alerts += alert_count;
            }
            return Ok(());
        }
        let Some(state) = self.states.get(&id).cloned() else {
            // Never opened: nothing to count.
            return Ok(());
        };
        let mut next = state.clone();
        next.dirty = true;
        let mut acknowledged = false;
        let mut resolved = false;
        match &e.payload {
            TicketEvent::TicketOpened { .. } => {}
            TicketEvent::WorkStarted { .. } => {
                next.status = Status::InProgress;
                acknowledged = true;
            }
            TicketEvent::TicketPutOnHold { .. } => next.status = Status::OnHold,
            TicketEvent::WorkResumed { .. } | TicketEvent::TicketReopened { .. } => {
                next.status = Status::InProgress
            }
            TicketEvent::TicketResolved { .. } => {
                next.status = Status::Resolved;
                acknowledged = true;
                resolved = true;
            }
            TicketEvent::TicketClosed { .. } => next.status = Status::Closed,
            TicketEvent::SeverityChanged { to, .. } => next.severity = *to,
            TicketEvent::AlertsCorrelated { batch, .. } => {
                next.alert_count = next.alert_count.saturating_add(count(batch.count));
                self.alerts_at(at, count(batch.count));
            }
            TicketEvent::SiemIncidentUpdated { repeat_count, .. } => {
                self.alerts_at(at, 1);
                // The aggregate records it on a CLOSED ticket without change.
                if state.status != Status::Closed {
                    next.alert_count = match repeat_count {
                        Some(n) => next.alert_count.max(count(*n)),
                        None => next.alert_count.saturating_add(1),
                    };
                }
            }
            TicketEvent::TicketAssigned { .. }
            | TicketEvent::TicketUnassigned { .. }
            | TicketEvent::CommentAdded { .. }
            | TicketEvent::TagsAdded { .. }
            | TicketEvent::TagsRemoved { .. }
            | TicketEvent::ObservableAdded { .. } => {}
        }
        if acknowledged && next.acknowledged_at.is_none() {
            next.acknowledged_at = Some(at);
            let secs = whole_seconds(state.created_at, at);
            let d = self.day(at);
            d.acknowledged += 1;
            d.ack_seconds += secs;
        }
        if resolved {
            let secs = whole_seconds(state.created_at, at);
            let d = self.day(at);
            d.resolved += 1;
            d.resolve_seconds += secs;
        }
        if let Some(rule) = &next.rule_name {
            let added = next.alert_count - state.alert_count;
            if added != 0 {
                self.rules.entry(rule.clone()).or_default().alerts += added;
            }
        }
        self.move_open(
            Some((state.status, state.severity)),
            Some((next.status, next.severity)),
        );
        self.states.insert(id, next);
        Ok(())
    }

    pub(crate) fn weight(&self) -> usize {
        self.states.len() * 160
    }

    /// Takes what was folded, to be written; the states leave memory too
    /// (later events read them back from the table).
    pub(crate) fn take(&mut self) -> Option<StatsBatch> {
        let states: Vec<(Uuid, TicketState)> =
            self.states.drain().filter(|(_, s)| s.dirty).collect();
        let batch = StatsBatch {
            states,
            open: std::mem::take(&mut self.open),
            daily: std::mem::take(&mut self.daily),
            rules: std::mem::take(&mut self.rules),
            alerts: std::mem::take(&mut self.alerts),
        };
        let empty = batch.states.is_empty()
            && batch.open.is_empty()
            && batch.daily.is_empty()
            && batch.rules.is_empty()
            && batch.alerts.is_empty();
        (!empty).then_some(batch)
    }

    pub(crate) async fn flush(&mut self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        match self.take() {
            Some(batch) => batch.write(conn).await,
            None => Ok(()),
        }
    }
}

/// Ticket states and counter deltas to write.
pub(crate) struct StatsBatch {
    states: Vec<(Uuid, TicketState)>,
    open: BTreeMap<(Status, Severity), i64>,
    daily: BTreeMap<NaiveDate, Daily>,
    rules: BTreeMap<String, RuleDelta>,
    alerts: BTreeMap<DateTime<Utc>, i64>,
}

impl StatsBatch {
    pub(crate) async fn write(self, conn: &mut PgConnection) -> Result<(), ProjectorError> {
        // In statements of bounded size, well within the statement timeout.
        for dirty in self.states.chunks(10_000) {
            sqlx::query(
                "INSERT INTO ticket_state (ticket_id, status, severity, rule_name, created_at, acknowledged_at, alert_count)
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::int8[])
                 ON CONFLICT (ticket_id) DO UPDATE SET
                     status = EXCLUDED.status, severity = EXCLUDED.severity,
                     rule_name = EXCLUDED.rule_name, created_at = EXCLUDED.created_at,
                     acknowledged_at = EXCLUDED.acknowledged_at, alert_count = EXCLUDED.alert_count",
            )
            .bind(dirty.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(dirty.iter().map(|(_, s)| s.status.as_str()).collect::<Vec<_>>())
            .bind(dirty.iter().map(|(_, s)| s.severity.as_str()).collect::<Vec<_>>())
            .bind(dirty.iter().map(|(_, s)| s.rule_name.as_deref()).collect::<Vec<_>>())
            .bind(dirty.iter().map(|(_, s)| s.created_at).collect::<Vec<_>>())
            .bind(dirty.iter().map(|(_, s)| s.acknowledged_at).collect::<Vec<_>>())
            .bind(dirty.iter().map(|(_, s)| s.alert_count).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }

        let open: Vec<(&(Status, Severity), &i64)> =
            self.open.iter().filter(|(_, d)| **d != 0).collect();
        if !open.is_empty() {
            sqlx::query(
                "INSERT INTO open_by_status_severity (status, severity, tickets)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[])
                 ON CONFLICT (status, severity) DO UPDATE
                     SET tickets = open_by_status_severity.tickets + EXCLUDED.tickets",
            )
            .bind(
                open.iter()
                    .map(|((s, _), _)| s.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                open.iter()
                    .map(|((_, v), _)| v.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(open.iter().map(|(_, d)| **d).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
            // A row exists only while its count is above zero, however the
            // events were batched.
            sqlx::query("DELETE FROM open_by_status_severity WHERE tickets = 0")
                .execute(&mut *conn)
                .await?;
        }

        if !self.daily.is_empty() {
            let days: Vec<(&NaiveDate, &Daily)> = self.daily.iter().collect();
            sqlx::query(
                "INSERT INTO daily (day, opened, resolved, acknowledged, ack_seconds_sum, resolve_seconds_sum)
                 SELECT u.day, u.opened, u.resolved, u.acknowledged, u.ack::float8, u.res::float8
                   FROM UNNEST($1::date[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[])
                        AS u(day, opened, resolved, acknowledged, ack, res)
                 ON CONFLICT (day) DO UPDATE SET
                     opened = daily.opened + EXCLUDED.opened,
                     resolved = daily.resolved + EXCLUDED.resolved,
                     acknowledged = daily.acknowledged + EXCLUDED.acknowledged,
                     ack_seconds_sum = daily.ack_seconds_sum + EXCLUDED.ack_seconds_sum,
                     resolve_seconds_sum = daily.resolve_seconds_sum + EXCLUDED.resolve_seconds_sum",
            )
            .bind(days.iter().map(|(d, _)| **d).collect::<Vec<_>>())
            .bind(days.iter().map(|(_, x)| x.opened).collect::<Vec<_>>())
            .bind(days.iter().map(|(_, x)| x.resolved).collect::<Vec<_>>())
            .bind(days.iter().map(|(_, x)| x.acknowledged).collect::<Vec<_>>())
            .bind(days.iter().map(|(_, x)| x.ack_seconds).collect::<Vec<_>>())
            .bind(days.iter().map(|(_, x)| x.resolve_seconds).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }

        if !self.rules.is_empty() {
            let rules: Vec<(&String, &RuleDelta)> = self.rules.iter().collect();
            sqlx::query(
                "INSERT INTO rules (rule_name, tickets, alerts)
                 SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[])
                 ON CONFLICT (rule_name) DO UPDATE SET
                     tickets = rules.tickets + EXCLUDED.tickets,
                     alerts = rules.alerts + EXCLUDED.alerts",
            )
            .bind(rules.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>())
            .bind(rules.iter().map(|(_, d)| d.tickets).collect::<Vec<_>>())
            .bind(rules.iter().map(|(_, d)| d.alerts).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }

        if !self.alerts.is_empty() {
            sqlx::query(
                "INSERT INTO alerts_hourly (hour, alerts)
                 SELECT * FROM UNNEST($1::timestamptz[], $2::int8[])
                 ON CONFLICT (hour) DO UPDATE SET alerts = alerts_hourly.alerts + EXCLUDED.alerts",
            )
            .bind(self.alerts.keys().copied().collect::<Vec<_>>())
            .bind(self.alerts.values().copied().collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
