//! The defining test of the gap-safe feed (docs/architecture.md, "The gap-safe feed"): a slow
//! transaction that began before a fast one and commits after it still has
//! its event delivered, once.
//!
//! It holds a writing transaction open, which holds back every feed
//! consumer of the cluster (`pg_snapshot_xmin` is cluster-wide): this file
//! is a test binary of its own with this single test, so that cargo runs it
//! alone, and the transaction stays open for well under a second.

mod common;

use std::time::{Duration, Instant};

use common::{fresh_database, Commands};
use platform::event_store::{EventCodec, StoredEvent};
use platform::feed;
use platform::position::Position;
use serde_json::json;
use sqlx::{Acquire, PgPool};
use uuid::Uuid;

const INSERT: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ('Ticket', $1, 1, 'TicketOpened', $2, $3, $4)
RETURNING global_position";

fn opened(id: Uuid, number: &str, v1: bool) -> (String, serde_json::Value) {
    if v1 {
        // The first release's shape: `priority`, no `source`; upcast on read.
        (
            "1.0".into(),
            json!({"TicketOpened": {"ticket_id": id, "number": number, "title": "slow", "description": "",
                   "priority": "P1", "by": "slowpoke", "at": "2026-01-05T08:00:00Z"}}),
        )
    } else {
        (
            "2.0".into(),
            json!({"TicketOpened": {"ticket_id": id, "number": number, "title": "fast", "description": "",
                   "severity": "LOW", "source": "MANUAL", "source_ip": null, "destination_ip": null,
                   "tags": [], "by": "speedy", "at": "2026-01-05T08:00:01Z"}}),
        )
    }
}

/// Reads everything after `at` the feed delivers now.
async fn drain(pool: &PgPool, codec: &EventCodec, at: &mut Position) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    loop {
        let page = feed::read_after(pool, codec, *at, 2).await.expect("feed");
        let Some(last) = page.last() else { break };
        *at = last.position;
        out.extend(page);
    }
    out
}

#[tokio::test]
async fn a_slow_transaction_committed_late_is_delivered_once() {
    let (_url, pool) = fresh_database().await;
    let codec = EventCodec::default();
    let commands = Commands::new(&pool);
    let before = commands.open("already there", None).await;
    let mut cursor = Position::default();
    // The watermark is cluster-wide: a writer elsewhere in the cluster may
    // hold it back for a moment (a liveness bound, not a speed target).
    let mut seen = drain(&pool, &codec, &mut cursor).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        seen = drain(&pool, &codec, &mut cursor).await;
    }
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].ticket_id, before.to_string());

    // The slow transaction begins first and takes the lower position...
    let (slow_id, fast_id) = (Uuid::now_v7(), Uuid::now_v7());
    let mut slow_conn = pool.acquire().await.unwrap();
    let mut slow = slow_conn.begin().await.unwrap();
    let (version, payload) = opened(slow_id, "SOC-900", true);
    let slow_position: i64 = sqlx::query_scalar(INSERT)
        .bind(slow_id.to_string())
        .bind(version)
        .bind(payload)
        .bind(json!({"actor": "slowpoke", "actor_kind": "user", "channel": "api"}))
        .fetch_one(&mut *slow)
        .await
        .unwrap();

    // ...a fast one begins after it, takes a higher position, commits first.
    let (version, payload) = opened(fast_id, "SOC-901", false);
    let fast_position: i64 = sqlx::query_scalar(INSERT)
        .bind(fast_id.to_string())
        .bind(version)
        .bind(payload)
        .bind(json!({"actor": "speedy", "actor_kind": "user", "channel": "api"}))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(slow_position < fast_position);

    // A poller on `global_position > checkpoint` would take the fast event
    // now and skip the slow one for good. The feed holds it back instead.
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE global_position > $1")
        .bind(seen[0].position.global_position)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(visible, 1, "the fast event is committed and visible");
    let early = drain(&pool, &codec, &mut cursor).await;
    assert!(
        early.is_empty(),
        "nothing is delivered past a running writer: {early:?}"
    );
    assert_eq!(cursor, seen[0].position);

    slow.commit().await.unwrap();
    drop(slow_conn);

    // Both arrive, the slow one first (its transaction is older), each
    // once. Other tests' writers on this cluster may hold the feed back a
    // moment longer: poll, bounded.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut delivered = Vec::new();
    while delivered.len() < 2 {
        delivered.extend(drain(&pool, &codec, &mut cursor).await);
        assert!(Instant::now() < deadline, "only {delivered:?} delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids: Vec<&str> = delivered.iter().map(|e| e.ticket_id.as_str()).collect();
    assert_eq!(ids, vec![slow_id.to_string(), fast_id.to_string()]);
    assert!(delivered[0].position < delivered[1].position);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        drain(&pool, &codec, &mut cursor).await.is_empty(),
        "nothing is delivered twice"
    );
    let head = feed::head(&pool).await.unwrap();
    assert_eq!(head, cursor);
    let range = feed::read_range(&pool, &codec, seen[0].position, head, 10)
        .await
        .unwrap();
    assert_eq!(
        range.iter().map(|e| e.position).collect::<Vec<_>>(),
        delivered.iter().map(|e| e.position).collect::<Vec<_>>()
    );

    // What the feed decodes equals what the store's codec decodes, for an
    // event of today's schema and one that needs its upcaster.
    for (id, event) in [(slow_id, &delivered[0]), (fast_id, &delivered[1])] {
        let history = commands.store.history(id).await.unwrap();
        assert_eq!(history.len(), 1);
        let h = &history[0];
        assert_eq!(
            (
                &h.payload,
                &h.metadata,
                h.position,
                h.recorded_at,
                h.event_id
            ),
            (
                &event.payload,
                &event.metadata,
                event.position,
                event.recorded_at,
                event.event_id
            )
        );
        assert_eq!(
            (&h.event_type, &h.event_version),
            (&event.event_type, &event.event_version)
        );
    }
    assert_eq!(delivered[0].event_version, "1.0");
    match &delivered[0].payload {
        domain::TicketEvent::TicketOpened { severity, .. } => {
            assert_eq!(*severity, domain::Severity::Critical)
        }
        other => panic!("unexpected {other:?}"),
    }
}
