//! Shared by the projector's tests: a fresh database per test, commands
//! through the real event store, and whole read-model snapshots.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use domain::command::{AlertBatch, AlertOrigin, OpenTicket, SiemUpdate};
use domain::{
    Actor, ActorKind, Command, ObservableKind, Resolution, Severity, Source, TicketCommand,
};
use platform::event_store::{Channel, CommandContext, StoreError, StoredResponse, TicketStore};
use platform::services::PgTicketServices;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// A fresh database with every migration applied: its URL and a pool.
pub async fn fresh_database() -> (String, PgPool) {
    test_kit::fresh_database(8).await
}

/// Users the tickets can be assigned to (written directly: hashing real
/// passwords would only slow the tests down).
pub async fn add_assignees(pool: &PgPool) {
    for (username, name, role) in [
        ("alice", "Alice Liddell", "analyst"),
        ("bob", "Bob Builder", "lead"),
    ] {
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role) VALUES ($1, $2, 'x', $3)",
        )
        .bind(username)
        .bind(name)
        .bind(role)
        .execute(pool)
        .await
        .expect("user");
    }
}

pub struct Commands {
    pub store: TicketStore,
}

impl Commands {
    pub fn new(pool: &PgPool) -> Commands {
        let services = Arc::new(PgTicketServices::new(pool.clone()));
        Commands {
            store: TicketStore::new(pool.clone(), services),
        }
    }

    /// Runs `command` on ticket `id` as `actor`; domain refusals (invalid
    /// transitions and the like) come back as errors.
    pub async fn run(&self, id: Uuid, actor: &str, command: Command) -> Result<(), StoreError> {
        let ctx = CommandContext {
            actor: actor.to_string(),
            actor_kind: ActorKind::User,
            command_id: Uuid::new_v4(),
            correlation_id: format!("test-{}", Uuid::new_v4().simple()),
            channel: Channel::Api,
            client_addr: None,
        };
        let command = TicketCommand {
            actor: Actor::user(actor),
            command,
        };
        self.store
            .execute(id, command, &ctx, None, None, |_| StoredResponse {
                status: 200,
                body: Value::Null,
            })
            .await
            .map(|_| ())
    }

    pub async fn open(&self, title: &str, alert_rule: Option<&str>) -> Uuid {
        let id = Uuid::now_v7();
        self.run(id, "jdoe", open_command(id, title, alert_rule))
            .await
            .expect("open");
        id
    }
}

pub fn open_command(id: Uuid, title: &str, alert_rule: Option<&str>) -> Command {
    Command::Open(OpenTicket {
        ticket_id: id,
        title: title.to_string(),
        description: format!("Description of {title}"),
        severity: Severity::High,
        source: if alert_rule.is_some() {
            Source::Webhook
        } else {
            Source::Manual
        },
        source_ip: "203.0.113.45".parse().ok(),
        destination_ip: "10.1.2.3".parse().ok(),
        tags: vec!["Phishing".into(), "apt:29".into()],
        origin: alert_rule.map(|rule| AlertOrigin {
            vendor: Some("Fortinet".into()),
            product: Some("FortiGate".into()),
            rule_name: Some(rule.to_string()),
            fingerprint: Some(format!("fp-{id}")),
            event_time: Some(Utc::now() - Duration::minutes(5)),
            raw: Some("srcip=203.0.113.45 dstip=10.1.2.3 action=blocked".into()),
            incident_id: None,
        }),
    })
}

/// Every command kind, by index, with a deterministic variant.
pub fn command(kind: u8, variant: u8, other: Option<(Uuid, String)>) -> Command {
    let v = variant as usize;
    match kind % 17 {
        0 => Command::Assign {
            assignee: ["alice", "bob"][v % 2].into(),
        },
        1 => Command::Unassign,
        2 => Command::Start,
        3 => Command::Hold {
            reason: "waiting for the asset owner".into(),
        },
        4 => Command::Resume,
        5 => Command::Resolve {
            resolution: Some(
                [
                    Resolution::TruePositive,
                    Resolution::FalsePositive,
                    Resolution::Benign,
                ][v % 3],
            ),
            summary: "contained".into(),
        },
        6 => Command::Close {
            note: "reviewed".into(),
        },
        7 => Command::Reopen {
            reason: "it came back".into(),
        },
        8 => Command::ChangeSeverity {
            severity: [
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ][v % 4],
            reason: "re-triaged".into(),
        },
        9 => Command::Comment {
            body: format!("Comment {v}: checked the proxy logs\nsecond line"),
        },
        10 => Command::Tag {
            tags: vec![["malware", "vpn", "phishing"][v % 3].into()],
        },
        11 => Command::Untag {
            tags: vec![["malware", "vpn", "phishing"][v % 3].into()],
        },
        12 => Command::AddObservable {
            kind: ObservableKind::Ip,
            value: format!("198.51.100.{v}"),
        },
        13 => match other {
            Some((of, number)) => Command::MarkDuplicate {
                of,
                of_number: Some(number),
                summary: "same incident".into(),
            },
            None => Command::Comment {
                body: "no other ticket yet".into(),
            },
        },
        14 => {
            let now = Utc::now().trunc_subsecs(3);
            Command::CorrelateAlerts(AlertBatch {
                count: 1 + v as u64 % 5,
                first_seen: now - Duration::seconds(60 + v as i64),
                last_seen: now,
                samples: vec![format!("sample {v}")],
            })
        }
        15 => Command::RecordSiemUpdate(SiemUpdate {
            incident_id: format!("INC-{}", v % 3),
            status: Some(["Active", "Cleared"][v % 2].into()),
            repeat_count: v.is_multiple_of(2).then_some(3 + v as u64),
            raw: Some("<incident/>".into()),
        }),
        _ => Command::Comment { body: "ok".into() },
    }
}

/// Every row of every read-model table, in key order, as JSON: two
/// snapshots are equal exactly when the read models hold the same rows.
/// The checkpoints' bookkeeping (`updated_at`) is left out; their positions
/// and event counts are in.
pub async fn snapshot(pool: &PgPool) -> Value {
    let tables: &[(&str, &str)] = &[
        (
            "tickets",
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM rm_tickets.tickets t",
        ),
        (
            "timeline",
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.ticket_id, t.sequence), '[]') FROM rm_tickets.timeline t",
        ),
        (
            "tickets_checkpoint",
            "SELECT to_jsonb(c) - 'updated_at' - 'retired' FROM rm_tickets.checkpoint c",
        ),
        (
            "ticket_state",
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.ticket_id), '[]') FROM rm_stats.ticket_state t",
        ),
        (
            "open_by_status_severity",
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.status, t.severity), '[]') FROM rm_stats.open_by_status_severity t",
        ),
        (
            "daily",
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.day), '[]') FROM rm_stats.daily t",
        ),
        (
            "rules",
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.rule_name), '[]') FROM rm_stats.rules t",
        ),
        (
            "stats_checkpoint",
            "SELECT to_jsonb(c) - 'updated_at' - 'retired' FROM rm_stats.checkpoint c",
        ),
    ];
    let mut out = serde_json::Map::new();
    for (name, sql) in tables {
        let v: Value = sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("snapshot of {name}: {e}"));
        out.insert(name.to_string(), v);
    }
    Value::Object(out)
}

/// Panics with the first differing table when two snapshots differ.
pub fn assert_same(incremental: &Value, rebuilt: &Value) {
    for (table, rows) in incremental.as_object().expect("snapshot") {
        let other = &rebuilt[table];
        if rows != other {
            let (a, b) = (
                rows.as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![rows.clone()]),
                other
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![other.clone()]),
            );
            let first = a
                .iter()
                .zip(b.iter())
                .find(|(x, y)| x != y)
                .map(|(x, y)| format!("incremental: {x}\nrebuilt:     {y}"))
                .unwrap_or_else(|| format!("{} rows vs {} rows", a.len(), b.len()));
            panic!(
                "table {table} differs between the incremental projection and a rebuild:\n{first}"
            );
        }
    }
}

/// Events in the store.
pub async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .expect("count events")
}

/// Waits until both projections have applied every event in the store.
pub async fn wait_projected(pool: &PgPool, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let total = event_count(pool).await;
        let applied: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT events_applied FROM rm_tickets.checkpoint), (SELECT events_applied FROM rm_stats.checkpoint)",
        )
        .fetch_one(pool)
        .await
        .expect("checkpoints");
        if applied.0 == total && applied.1 == total {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "projections at {applied:?} of {total} events after {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Runs catch-up passes until both projections applied every committed
/// event: a pass applies what the feed delivers, and writers of other
/// databases on the same cluster (other tests) may hold it back a moment.
pub async fn project_all(pool: &PgPool, batch: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        projector::Projector::new(pool.clone())
            .batch_size(batch)
            .catch_up()
            .await
            .expect("catch up");
        let total = event_count(pool).await;
        let applied: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT events_applied FROM rm_tickets.checkpoint), (SELECT events_applied FROM rm_stats.checkpoint)",
        )
        .fetch_one(pool)
        .await
        .expect("checkpoints");
        if applied == (total, total) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "projections at {applied:?} of {total} events"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
