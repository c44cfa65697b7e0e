//! The read models against the aggregate and against a rebuild from
//! scratch, on a real Postgres (a fresh database per test).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::SubsecRound;
use common::{
    add_assignees, assert_same, command, fresh_database, snapshot, wait_projected, Commands,
};
use domain::command::SiemUpdate;
use domain::{Command, Ticket};
use platform::http::shutdown::Shutdown;
use platform::position::Position;
use proptest::prelude::*;
use serde_json::Value;
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The row of `rm_tickets.tickets` against the aggregate's own fold.
async fn assert_row_matches_aggregate(pool: &PgPool, commands: &Commands, id: Uuid) {
    let ticket: Ticket = commands.store.load(id).await.expect("load");
    let row = sqlx::query(
        "SELECT number, title, description, status, severity, resolution, resolution_summary,
                duplicate_of, source, host(source_ip) AS source_ip, host(destination_ip) AS destination_ip,
                rule_name, fingerprint, vendor, assignee, assignee_name, tags, observables,
                comment_count, alert_count, first_seen, last_seen, asset, source_asset,
                created_at, updated_at, acknowledged_at, resolved_at, version, search_text
           FROM rm_tickets.tickets WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("the ticket's row");
    let micros = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.trunc_subsecs(6));
    let s = |v: Option<String>| v;
    assert_eq!(
        row.get::<String, _>("number"),
        ticket.number.clone().unwrap()
    );
    assert_eq!(row.get::<String, _>("title"), ticket.title);
    assert_eq!(row.get::<String, _>("description"), ticket.description);
    assert_eq!(
        row.get::<String, _>("status"),
        ticket.status.unwrap().as_str()
    );
    assert_eq!(
        row.get::<String, _>("severity"),
        ticket.severity.unwrap().as_str()
    );
    assert_eq!(
        s(row.get("resolution")),
        ticket.resolution.map(|r| r.as_str().to_string())
    );
    assert_eq!(
        s(row.get("resolution_summary")),
        ticket.resolution_summary.clone()
    );
    assert_eq!(
        row.get::<Option<Uuid>, _>("duplicate_of"),
        ticket.duplicate_of
    );
    assert_eq!(
        row.get::<String, _>("source"),
        ticket.source.unwrap().as_str()
    );
    assert_eq!(
        s(row.get("source_ip")),
        ticket.source_ip.map(|i| i.to_string())
    );
    assert_eq!(
        s(row.get("destination_ip")),
        ticket.destination_ip.map(|i| i.to_string())
    );
    let origin = ticket.origin.clone().unwrap_or_default();
    assert_eq!(s(row.get("rule_name")), origin.rule_name);
    assert_eq!(s(row.get("fingerprint")), origin.fingerprint);
    assert_eq!(s(row.get("vendor")), origin.vendor);
    assert_eq!(s(row.get("assignee")), ticket.assignee.clone());
    assert_eq!(
        row.get::<Vec<String>, _>("tags"),
        ticket.tags.iter().cloned().collect::<Vec<_>>()
    );
    let observables: Value = row.get("observables");
    assert_eq!(
        observables,
        serde_json::to_value(&ticket.observables).unwrap()
    );
    assert_eq!(
        row.get::<i32, _>("comment_count") as usize,
        ticket.comments.len()
    );
    assert_eq!(row.get::<i64, _>("alert_count") as u64, ticket.alert_count);
    assert_eq!(
        row.get::<Option<_>, _>("first_seen"),
        micros(ticket.first_seen)
    );
    assert_eq!(
        row.get::<Option<_>, _>("last_seen"),
        micros(ticket.last_seen)
    );
    let asset = |a: &Option<domain::Asset>| a.as_ref().map(|a| serde_json::to_value(a).unwrap());
    assert_eq!(
        row.get::<Option<Value>, _>("asset"),
        asset(&ticket.destination_asset)
    );
    assert_eq!(
        row.get::<Option<Value>, _>("source_asset"),
        asset(&ticket.source_asset)
    );
    assert_eq!(
        row.get::<Option<_>, _>("created_at"),
        micros(ticket.created_at)
    );
    assert_eq!(
        row.get::<Option<_>, _>("updated_at"),
        micros(ticket.updated_at)
    );
    assert_eq!(
        row.get::<Option<_>, _>("acknowledged_at"),
        micros(ticket.acknowledged_at)
    );
    assert_eq!(
        row.get::<Option<_>, _>("resolved_at"),
        micros(ticket.resolved_at)
    );
    assert_eq!(row.get::<i64, _>("version") as u64, ticket.version);
    let search: String = row.get("search_text");
    for c in &ticket.comments {
        assert!(search.contains(&c.body), "comment in search_text");
    }
    for o in &ticket.observables {
        assert!(search.contains(&o.value), "observable in search_text");
    }
    for t in &ticket.tags {
        assert!(search.contains(t.as_str()), "tag in search_text");
    }
    // Whatever the assignee's name, it is the one the event carried.
    if ticket.assignee.is_none() {
        assert_eq!(s(row.get("assignee_name")), None);
    }
}

#[tokio::test]
async fn every_event_lands_as_the_aggregate_has_it_and_a_rebuild_agrees() {
    let (_url, pool) = fresh_database().await;
    add_assignees(&pool).await;
    let commands = Commands::new(&pool);

    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener.listen("ticket_projected").await.unwrap();

    let alert = commands
        .open("Brute force on VPN", Some("FortiGate IPS brute force"))
        .await;
    let manual = commands.open("Phishing mail reported", None).await;
    let number = |id: Uuid| {
        let store = commands.store.clone();
        async move { store.load(id).await.unwrap().number.unwrap() }
    };
    let alert_number = number(alert).await;
    let script: Vec<(Uuid, Command)> = vec![
        (alert, command(0, 0, None)),  // assign alice
        (alert, command(2, 0, None)),  // start
        (alert, command(9, 7, None)),  // comment
        (alert, command(10, 0, None)), // tag malware
        (alert, command(11, 2, None)), // untag phishing
        (alert, command(12, 7, None)), // observable
        (alert, command(14, 3, None)), // correlate
        (alert, command(8, 3, None)),  // severity CRITICAL
        (alert, command(3, 0, None)),  // hold
        (alert, command(15, 0, None)), // SIEM: active, repeat 3
        (alert, command(4, 0, None)),  // resume
        (alert, command(0, 1, None)),  // reassign bob
        (alert, command(5, 0, None)),  // resolve
        (alert, command(7, 0, None)),  // reopen
        (alert, command(1, 0, None)),  // unassign
        (alert, command(5, 1, None)),  // resolve
        (alert, command(6, 0, None)),  // close
        (
            alert,
            Command::RecordSiemUpdate(SiemUpdate {
                incident_id: "INC-9".into(),
                status: Some("Cleared".into()),
                repeat_count: Some(99),
                raw: None,
            }),
        ), // recorded on CLOSED without change
        (manual, command(13, 0, Some((alert, alert_number.clone())))), // duplicate
        (manual, command(7, 0, None)), // reopen
        (manual, command(9, 1, None)), // comment
    ];
    for (id, c) in script {
        commands
            .run(id, "jdoe", c.clone())
            .await
            .unwrap_or_else(|e| panic!("{c:?}: {e}"));
    }

    common::project_all(&pool, 3).await;
    let total = common::event_count(&pool).await;

    for id in [alert, manual] {
        assert_row_matches_aggregate(&pool, &commands, id).await;
    }
    let name: Option<String> =
        sqlx::query_scalar("SELECT assignee_name FROM rm_tickets.tickets WHERE id = $1")
            .bind(manual)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(name, None);

    // The timeline: every event, in order, told as a sentence.
    let timeline: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT sequence, event_type, actor, summary FROM rm_tickets.timeline WHERE ticket_id = $1 ORDER BY sequence",
    )
    .bind(alert)
    .fetch_all(&pool)
    .await
    .unwrap();
    let history = commands.store.history(alert).await.unwrap();
    assert_eq!(timeline.len(), history.len());
    assert!(timeline
        .iter()
        .zip(&history)
        .all(|(t, h)| t.0 as u64 == h.sequence && t.1 == h.event_type));
    assert_eq!(timeline[1].3, "jdoe assigned the ticket to Alice Liddell");
    assert_eq!(timeline[1].2, "jdoe");
    assert!(
        timeline[0].3.starts_with("jdoe opened SOC-"),
        "{}",
        timeline[0].3
    );
    assert!(timeline
        .iter()
        .any(|t| t.3 == "jdoe reassigned the ticket from alice to Bob Builder"));
    let payload: Value = sqlx::query_scalar(
        "SELECT payload FROM rm_tickets.timeline WHERE ticket_id = $1 AND sequence = 2",
    )
    .bind(alert)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(payload["assignee_name"], "Alice Liddell");

    // Full-text search over comments, observables, tags, title.
    for (query, expected) in [
        ("proxy", 2),
        ("198.51.100.7", 1),
        ("malware", 1),
        ("phishing", 1),
        ("vpn", 1),
    ] {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rm_tickets.tickets WHERE search @@ websearch_to_tsquery('simple', $1)",
        )
        .bind(query)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, expected, "search for {query}");
    }

    // Dashboard figures.
    let open: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT status, severity, tickets FROM rm_stats.open_by_status_severity ORDER BY 1, 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(open, vec![("IN_PROGRESS".into(), "HIGH".into(), 1)]);
    let (opened, resolved, acknowledged): (i64, i64, i64) = sqlx::query_as(
        "SELECT sum(opened)::int8, sum(resolved)::int8, sum(acknowledged)::int8 FROM rm_stats.daily",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((opened, resolved, acknowledged), (2, 3, 2));
    let rules: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT rule_name, tickets, alerts FROM rm_stats.rules")
            .fetch_all(&pool)
            .await
            .unwrap();
    let alerts = commands.store.load(alert).await.unwrap().alert_count as i64;
    assert_eq!(rules, vec![("FortiGate IPS brute force".into(), 1, alerts)]);

    // One notification per batch, with its range as cursors only: per
    // projection the ranges follow each other, from the start to the head.
    let head = platform::feed::head(&pool).await.unwrap();
    let mut ends = std::collections::HashMap::new();
    let mut ranges = 0;
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await {
        assert!(n.payload().len() < 8000);
        let v: Value = serde_json::from_str(n.payload()).unwrap();
        let projection = v["projection"].as_str().unwrap().to_string();
        assert!(["tickets", "stats"].contains(&projection.as_str()));
        let from: Position = v["from"].as_str().unwrap().parse().unwrap();
        let to: Position = v["to"].as_str().unwrap().parse().unwrap();
        assert!(from < to);
        let end = ends.entry(projection).or_insert(Position::default());
        assert_eq!(from, *end, "ranges follow each other");
        *end = to;
        ranges += 1;
    }
    assert!(
        ranges as i64 >= 2 * ((total + 2) / 3),
        "batches of at most 3 events"
    );
    assert_eq!(ends.get("tickets"), Some(&head));
    assert_eq!(ends.get("stats"), Some(&head));

    let incremental = snapshot(&pool).await;
    projector::rebuild(&pool, None).await.expect("rebuild");
    assert_same(&incremental, &snapshot(&pool).await);
}

async fn asset_owner(pool: &PgPool, id: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT asset ->> 'owner' FROM rm_tickets.tickets WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The CMDB assets a ticket opened with are on its row, the same after a
/// rebuild; a later CMDB edit does not change them (the ticket's history is
/// what the CMDB said when it opened).
#[tokio::test]
async fn the_assets_a_ticket_opened_with_are_projected_and_rebuilt() {
    let (_url, pool) = fresh_database().await;
    add_assignees(&pool).await;
    sqlx::query(
        "INSERT INTO assets (network, hostname, owner, business_unit, criticality) VALUES
            ('10.1.2.0/24', 'dc01.corp.example', 'Directory team', 'IT', 'CRITICAL'),
            ('203.0.113.45/32', 'scanner.example', 'Unknown', NULL, 'LOW')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let commands = Commands::new(&pool);
    let alert = commands
        .open("Brute force on the DC", Some("FortiGate IPS"))
        .await;
    let manual = commands.open("Phishing mail reported", None).await;
    common::project_all(&pool, 2).await;
    for id in [alert, manual] {
        assert_row_matches_aggregate(&pool, &commands, id).await;
    }
    let (asset, source): (Value, Value) =
        sqlx::query_as("SELECT asset, source_asset FROM rm_tickets.tickets WHERE id = $1")
            .bind(alert)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(asset["owner"], "Directory team");
    assert_eq!(asset["hostname"], "dc01.corp.example");
    assert_eq!(asset["criticality"], "CRITICAL");
    assert_eq!(asset["network"], "10.1.2.0/24");
    assert_eq!(source["owner"], "Unknown");
    assert_eq!(source["criticality"], "LOW");

    // The CMDB changes; the ticket keeps what it opened with.
    sqlx::query("UPDATE assets SET owner = 'Someone else', criticality = 'LOW' WHERE network = '10.1.2.0/24'")
        .execute(&pool)
        .await
        .unwrap();
    commands
        .run(alert, "jdoe", command(9, 1, None))
        .await
        .unwrap();
    common::project_all(&pool, 2).await;
    assert_eq!(
        asset_owner(&pool, alert).await.as_deref(),
        Some("Directory team")
    );

    let incremental = snapshot(&pool).await;
    projector::rebuild(&pool, None).await.expect("rebuild");
    assert_same(&incremental, &snapshot(&pool).await);
    assert_eq!(
        asset_owner(&pool, alert).await.as_deref(),
        Some("Directory team"),
        "after the rebuild"
    );
}

/// One step of a random history: a command on one of three tickets, then
/// perhaps a projection pass in small batches.
#[derive(Debug, Clone)]
struct Step {
    ticket: usize,
    kind: u8,
    variant: u8,
    project_after: Option<i64>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0usize..3,
        0u8..18,
        any::<u8>(),
        prop::option::weighted(0.3, 1i64..5),
    )
        .prop_map(|(ticket, kind, variant, project_after)| Step {
            ticket,
            kind,
            variant,
            project_after,
        })
}

async fn incremental_equals_rebuild(steps: Vec<Step>) {
    let (_url, pool) = fresh_database().await;
    add_assignees(&pool).await;
    let commands = Commands::new(&pool);
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let mut numbers: Vec<Option<String>> = vec![None; 3];
    for s in &steps {
        let id = ids[s.ticket];
        let c = if s.kind == 17 || numbers[s.ticket].is_none() {
            common::open_command(
                id,
                &format!("Ticket {}", s.ticket),
                (s.variant % 2 == 0).then_some(["rule-a", "rule-b"][s.variant as usize % 4 / 2]),
            )
        } else {
            let other = (s.ticket + 1) % 3;
            command(
                s.kind,
                s.variant,
                numbers[other].clone().map(|n| (ids[other], n)),
            )
        };
        // Refusals (invalid transitions, duplicates of tickets not yet
        // opened...) are part of the game: they write nothing.
        let _ = commands.run(id, "jdoe", c).await;
        if numbers[s.ticket].is_none() {
            numbers[s.ticket] = commands.store.load(id).await.ok().and_then(|t| t.number);
        }
        if let Some(batch) = s.project_after {
            projector::Projector::new(pool.clone())
                .batch_size(batch)
                .catch_up()
                .await
                .expect("catch up");
        }
    }
    common::project_all(&pool, 2).await;
    for (id, n) in ids.iter().zip(&numbers) {
        if n.is_some() {
            assert_row_matches_aggregate(&pool, &commands, *id).await;
        }
    }
    let incremental = snapshot(&pool).await;
    projector::rebuild(&pool, None).await.expect("rebuild");
    assert_same(&incremental, &snapshot(&pool).await);
    pool.close().await;
}

proptest! {
    // Each case is a fresh database and a few dozen commands: keep CI fast.
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 20, ..ProptestConfig::default() })]
    #[test]
    fn incremental_projection_equals_a_rebuild(steps in prop::collection::vec(step(), 1..40)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(incremental_equals_rebuild(steps));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_keep_answering_during_a_rebuild() {
    let (_url, pool) = fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    projector::synthetic::insert_tickets(
        &mut conn,
        "during-rebuild",
        3_000,
        1_000_000,
        200,
        10_000,
    )
    .await
    .expect("synthetic events");
    drop(conn);
    let commands = Commands::new(&pool);
    let shutdown = Shutdown::default();
    let live = tokio::spawn(projector::Projector::new(pool.clone()).run(shutdown.clone()));
    wait_projected(&pool, Duration::from_secs(60)).await;

    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_tickets.tickets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(before, 3_000);
    let probe = "SOC-1001500";

    // Readers, as query-api would read: list count and a detail lookup.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let reader = {
        let (pool, stop, reads) = (pool.clone(), stop.clone(), reads.clone());
        tokio::spawn(async move {
            let mut floor = before;
            while !stop.load(Ordering::Relaxed) {
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_tickets.tickets")
                    .fetch_one(&pool)
                    .await
                    .expect("the list query answers during the rebuild");
                assert!(n >= floor, "the list shrank from {floor} to {n}");
                floor = n;
                let row = sqlx::query(
                    "SELECT t.status, (SELECT count(*) FROM rm_tickets.timeline l WHERE l.ticket_id = t.id) AS events
                       FROM rm_tickets.tickets t WHERE t.number = $1",
                )
                .bind(probe)
                .fetch_optional(&pool)
                .await
                .expect("the detail query answers during the rebuild")
                .expect("the ticket is there during the rebuild");
                assert_eq!(row.get::<i64, _>("events"), 10);
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Writers meanwhile: the live leader keeps projecting through the swap.
    let writer = {
        let pool = pool.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let commands = Commands::new(&pool);
            let mut opened = 0;
            while !stop.load(Ordering::Relaxed) {
                commands.open("during the rebuild", None).await;
                opened += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            opened
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reports = projector::rebuild(&pool, None).await.expect("rebuild");
    assert_eq!(reports.len(), 2);
    // A second rebuild replaces the first one's copy the same way.
    projector::rebuild(&pool, Some("tickets"))
        .await
        .expect("rebuild again");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    reader.await.expect("reader");
    let opened = writer.await.expect("writer");
    assert!(
        reads.load(Ordering::Relaxed) > 5,
        "the readers ran during the rebuild"
    );
    assert!(opened > 0);

    // Tickets opened after the swap are projected into the swapped-in copy.
    commands.open("after the rebuild", None).await;
    wait_projected(&pool, Duration::from_secs(30)).await;
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_tickets.tickets")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, before + opened + 1);
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_namespace WHERE nspname ~ '^rm_.*_(build|old)_[0-9]+$'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leftovers, 0, "old and build copies are dropped");

    shutdown.cancel();
    live.await.unwrap().unwrap();
    let incremental = snapshot(&pool).await;
    projector::rebuild(&pool, None).await.expect("rebuild");
    assert_same(&incremental, &snapshot(&pool).await);
}

#[tokio::test]
async fn a_second_rebuild_of_the_same_projection_is_refused_while_one_runs() {
    let (_url, pool) = fresh_database().await;
    let mut conn = pool.acquire().await.unwrap();
    projector::synthetic::insert_tickets(&mut conn, "busy", 2_000, 0, 100, 10_000)
        .await
        .unwrap();
    drop(conn);
    let first = tokio::spawn({
        let pool = pool.clone();
        async move { projector::rebuild(&pool, Some("tickets")).await }
    });
    // Whichever gets the lock second is refused, not queued.
    let second = projector::rebuild(&pool, Some("tickets")).await;
    let first = first.await.unwrap();
    assert!(
        first.is_ok() || second.is_ok(),
        "one of them rebuilt: {first:?} {second:?}"
    );
    if let (Ok(_), Err(e)) | (Err(e), Ok(_)) = (&first, &second) {
        assert!(
            matches!(e, projector::ProjectorError::Busy("tickets")),
            "{e}"
        );
    }
    assert!(matches!(
        projector::rebuild(&pool, Some("nope")).await,
        Err(projector::ProjectorError::UnknownProjection(_))
    ));
}
