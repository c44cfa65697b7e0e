//! Subscriptions: live delivery, per-ticket updates, filters, and resuming
//! after a dropped connection with no gap and no duplicate, also when the
//! events around the resume point were committed out of position order.

use std::time::Duration;

use domain::{Command, Role, Severity, TicketEvent};
use platform::position::Position;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{pos, spawn, Harness, Ws};

const EVENTS: &str = "subscription($after: String, $filter: TicketFilter) {
  ticketEvents(afterPosition: $after, filter: $filter) { position sequence ticketId type actor payload }
}";

async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    ws.send(
        json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}),
    )
    .await;
}

/// The next `n` events of subscription `id`.
async fn next_events(ws: &mut Ws, id: &str, n: usize) -> Vec<Value> {
    let mut out = vec![];
    while out.len() < n {
        let msg = ws.recv().await;
        assert_eq!(msg["id"], id, "{msg}");
        assert_eq!(msg["type"], "next", "{msg}");
        assert!(msg["payload"].get("errors").is_none(), "{msg}");
        out.push(msg["payload"]["data"]["ticketEvents"].clone());
    }
    out
}

/// A comment event written with plain SQL inside `tx`, as the event store would.
async fn insert_comment(
    tx: &mut sqlx::PgConnection,
    ticket: Uuid,
    sequence: i64,
    body: &str,
) -> Position {
    let event = TicketEvent::CommentAdded {
        comment_id: Uuid::new_v4(),
        body: body.into(),
        by: "slowpoke".into(),
        at: chrono::Utc::now(),
    };
    let row: (String, i64) = sqlx::query_as(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Ticket', $1, $2, 'CommentAdded', '1.0', $3, $4)
         RETURNING transaction_id::text, global_position",
    )
    .bind(ticket.to_string())
    .bind(sequence)
    .bind(serde_json::to_value(&event).expect("json"))
    .bind(json!({"actor": "slowpoke", "actor_kind": "user", "channel": "api"}))
    .fetch_one(&mut *tx)
    .await
    .expect("insert event");
    Position::new(row.0.parse().expect("xid"), row.1)
}

async fn feed_order(h: &Harness) -> Vec<Position> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT transaction_id::text, global_position FROM events ORDER BY transaction_id, global_position",
    )
    .fetch_all(&h.pool)
    .await
    .expect("events");
    rows.into_iter()
        .map(|(tx, p)| Position::new(tx.parse().expect("xid"), p))
        .collect()
}

#[tokio::test]
async fn live_events_and_ticket_updates_arrive() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    let (t1, _) = h.open("lead", "first", Severity::High).await;
    h.project().await;

    let mut ws = h.ws_acked(&token).await;
    subscribe(&mut ws, "events", EVENTS, json!({})).await;
    subscribe(
        &mut ws,
        "updated",
        "subscription($id: ID!) { ticketUpdated(id: $id, afterVersion: 0) { number status version } }",
        json!({"id": t1}),
    )
    .await;
    // afterVersion 0: the current state first.
    let first = ws.recv().await;
    assert_eq!(first["id"], "updated", "{first}");
    assert_eq!(first["payload"]["data"]["ticketUpdated"]["version"], 1);
    // Live-only subscriptions start when the server has polled them.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = h.exec(t1, "lead", Command::Start).await;
    let (t2, _) = h.open("lead", "second", Severity::Low).await;
    h.project().await;

    let mut events = vec![];
    let mut update = None;
    while events.len() < 2 || update.is_none() {
        let msg = ws.recv().await;
        match msg["id"].as_str() {
            Some("events") => events.push(msg["payload"]["data"]["ticketEvents"].clone()),
            Some("updated") => update = Some(msg["payload"]["data"]["ticketUpdated"].clone()),
            _ => panic!("unexpected {msg}"),
        }
    }
    assert_eq!(events[0]["type"], "WorkStarted");
    assert_eq!(events[0]["ticketId"], t1.to_string().as_str());
    assert_eq!(
        events[0]["position"],
        started.position.expect("position").cursor().as_str()
    );
    assert_eq!(events[0]["actor"], "lead");
    assert_eq!(events[1]["type"], "TicketOpened");
    assert_eq!(events[1]["ticketId"], t2.to_string().as_str());
    assert_eq!(events[1]["payload"]["title"], "second");
    let update = update.expect("update");
    assert_eq!(update["status"], "IN_PROGRESS");
    assert_eq!(update["version"], 2);
    ws.expect_silence(Duration::from_millis(300)).await;

    // complete: nothing more for that id; the id can be used again.
    ws.send(json!({"id": "events", "type": "complete"})).await;
    h.exec(t2, "lead", Command::Start).await;
    h.project().await;
    ws.expect_silence(Duration::from_millis(500)).await;
    subscribe(
        &mut ws,
        "events",
        EVENTS,
        json!({"after": events[1]["position"]}),
    )
    .await;
    let again = next_events(&mut ws, "events", 1).await;
    assert_eq!(again[0]["type"], "WorkStarted");
    assert_eq!(again[0]["ticketId"], t2.to_string().as_str());
}

#[tokio::test]
async fn filtered_events_only_of_matching_tickets() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    let (_low, low_open) = h.open("lead", "low one", Severity::Low).await;
    let (crit, _) = h.open("lead", "critical one", Severity::Critical).await;
    h.exec(
        crit,
        "lead",
        Command::Comment {
            body: "zebra crossing".into(),
        },
    )
    .await;
    h.project().await;
    let mut ws = h.ws_acked(&token).await;
    let after = low_open.position.expect("position").cursor();
    subscribe(
        &mut ws,
        "crit",
        EVENTS,
        json!({"after": after, "filter": {"severity": ["CRITICAL"]}}),
    )
    .await;
    subscribe(
        &mut ws,
        "text",
        EVENTS,
        json!({"after": after, "filter": {"text": "zebra"}}),
    )
    .await;
    let mut by_id: std::collections::HashMap<String, Vec<Value>> = Default::default();
    for _ in 0..4 {
        let msg = ws.recv().await;
        by_id
            .entry(msg["id"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(msg["payload"]["data"]["ticketEvents"].clone());
    }
    for id in ["crit", "text"] {
        let types: Vec<&str> = by_id[id]
            .iter()
            .filter_map(|e| e["type"].as_str())
            .collect();
        assert_eq!(types, ["TicketOpened", "CommentAdded"], "{id}");
        assert!(by_id[id]
            .iter()
            .all(|e| e["ticketId"] == crit.to_string().as_str()));
    }
    ws.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn resume_after_a_dropped_connection_has_no_gap_nor_duplicate_with_out_of_order_commits() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    let (t1, e1) = h.open("lead", "one", Severity::Medium).await;
    let (t2, _) = h.open("lead", "two", Severity::Medium).await;
    h.project().await;

    // Catch up from E1, then live.
    let mut ws = h.ws_acked(&token).await;
    let e1 = e1.position.expect("position").cursor();
    subscribe(&mut ws, "s", EVENTS, json!({"after": e1})).await;
    let mut received = next_events(&mut ws, "s", 1).await;
    assert_eq!(received[0]["ticketId"], t2.to_string().as_str());
    h.exec(
        t1,
        "lead",
        Command::Comment {
            body: "live one".into(),
        },
    )
    .await;
    h.project().await;
    received.extend(next_events(&mut ws, "s", 1).await);
    assert_eq!(received[1]["payload"]["body"], "live one");
    drop(ws);

    // While disconnected: A takes the lower position but commits last.
    let mut slow = h.pool.acquire().await.expect("conn");
    sqlx::query("BEGIN")
        .execute(&mut *slow)
        .await
        .expect("begin");
    let a = insert_comment(&mut slow, t1, 3, "slow A").await;
    let mut fast = h.pool.acquire().await.expect("conn");
    let b = insert_comment(&mut fast, t2, 2, "fast B").await;
    let c = insert_comment(&mut fast, t2, 3, "fast C").await;
    assert!(a.global_position < b.global_position && b.global_position < c.global_position);
    h.project_now().await; // held back by A: nothing to apply yet

    // Resume from the last position seen: nothing yet (A still running).
    let last = received[1]["position"]
        .as_str()
        .expect("position")
        .to_string();
    let mut ws = h.ws_acked(&token).await;
    subscribe(&mut ws, "s", EVENTS, json!({"after": last})).await;
    ws.expect_silence(Duration::from_millis(400)).await;

    sqlx::query("COMMIT")
        .execute(&mut *slow)
        .await
        .expect("commit A");
    h.project().await;
    let after_commit = next_events(&mut ws, "s", 1).await;
    assert_eq!(after_commit[0]["payload"]["body"], "slow A");
    assert_eq!(pos(after_commit[0]["position"].as_str().expect("pos")), a);
    received.extend(after_commit);

    // Drop in the middle of that batch, resume after A: B and C, once.
    drop(ws);
    let mut ws = h.ws_acked(&token).await;
    let after_a = a.cursor();
    subscribe(&mut ws, "s", EVENTS, json!({"after": after_a})).await;
    let rest = next_events(&mut ws, "s", 2).await;
    assert_eq!(rest[0]["payload"]["body"], "fast B");
    assert_eq!(rest[1]["payload"]["body"], "fast C");
    received.extend(rest);

    // And live again after the resume.
    let last_one = h
        .exec(
            t2,
            "lead",
            Command::Comment {
                body: "after resume".into(),
            },
        )
        .await;
    h.project().await;
    received.extend(next_events(&mut ws, "s", 1).await);
    ws.expect_silence(Duration::from_millis(300)).await;

    // Exactly the feed after E1, in feed order, each once.
    let got: Vec<Position> = received
        .iter()
        .map(|e| pos(e["position"].as_str().expect("position")))
        .collect();
    let e1 = pos(&e1);
    let expected: Vec<Position> = feed_order(&h)
        .await
        .into_iter()
        .filter(|p| *p > e1)
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.last().copied(), last_one.position);
    assert!(got.contains(&b) && got.contains(&c));
}

/// Waits until the `watcher` receiver has seen the batch that carries
/// `position`; returns how many batches that took.
async fn broadcast_up_to(
    watcher: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<query_api::hub::Batch>>,
    head: &mut Position,
    position: Position,
) -> usize {
    let mut batches = 0;
    while *head < position {
        let batch = tokio::time::timeout(Duration::from_secs(10), watcher.recv())
            .await
            .expect("the hub broadcasts the projected batch")
            .expect("a batch (the watcher keeps up)");
        *head = batch.to;
        batches += 1;
    }
    batches
}

#[tokio::test]
async fn a_lagged_subscriber_resyncs_from_the_feed_with_no_gap_nor_duplicate() {
    use futures::StreamExt;

    const CAPACITY: usize = 2;
    const ROUNDS: usize = 12;
    // The lag itself is counted: a recorder for this process shows it.
    let metrics = platform::telemetry::metrics();
    let lagged = || {
        metrics
            .render()
            .lines()
            .find_map(|l| l.strip_prefix("ticketera_subscription_lagged_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let lagged_before = lagged();
    let h = crate::harness::spawn_with(|_, o| o.broadcast_capacity = CAPACITY).await;
    let (t, opened) = h.open("lead", "lagging", Severity::Low).await;
    let opened = opened.position.expect("position");
    h.project().await;

    // A receiver that keeps up sees every batch the hub broadcasts; once it
    // saw the opening, the hub's head is there.
    let hub = h.api.hub().clone();
    let (mut watcher, mut head) = hub.subscribe().await.expect("subscribe");
    broadcast_up_to(&mut watcher, &mut head, opened).await;
    assert_eq!(head, opened, "nothing else was written");

    // The subscriptions under test: created, then not polled while more
    // batches than their receivers hold are broadcast.
    let mut events = Box::pin(
        query_api::subscriptions::ticket_events(hub.clone(), None, None)
            .await
            .expect("ticketEvents"),
    );
    let mut updated = Box::pin(
        query_api::subscriptions::ticket_updated(hub.clone(), t, None)
            .await
            .expect("ticketUpdated"),
    );
    let mut batches = 0;
    let mut last = opened;
    for i in 0..ROUNDS {
        let done = h
            .exec(
                t,
                "lead",
                Command::Comment {
                    body: format!("while lagging {i}"),
                },
            )
            .await;
        last = done.position.expect("position");
        h.project().await;
        batches += broadcast_up_to(&mut watcher, &mut head, last).await;
    }
    assert!(
        batches > CAPACITY,
        "{batches} batches overflow receivers of {CAPACITY}: they lag"
    );

    // Polled now: every event after the subscription began, once, in feed
    // order (the resync from the feed, then the batches still held skipped).
    let mut got = vec![];
    while got.len() < ROUNDS {
        let e = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("the lagged subscription delivers")
            .expect("still open");
        got.push(e.record.position);
    }
    let expected: Vec<Position> = feed_order(&h)
        .await
        .into_iter()
        .filter(|p| *p > opened)
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.last(), Some(&last));
    let more = tokio::time::timeout(Duration::from_millis(300), events.next()).await;
    assert!(more.is_err(), "no duplicate after the resync");

    assert!(
        lagged() >= lagged_before + 1.0,
        "the subscription went through RecvError::Lagged"
    );

    // ticketUpdated re-reads the row once: the newest version, nothing older.
    let row = tokio::time::timeout(Duration::from_secs(10), updated.next())
        .await
        .expect("the lagged ticketUpdated delivers")
        .expect("still open");
    assert_eq!(row.version, 1 + ROUNDS as i64);
    let more = tokio::time::timeout(Duration::from_millis(300), updated.next()).await;
    assert!(more.is_err(), "no older row after the re-read");
    assert!(lagged() >= lagged_before + 2.0, "both subscriptions lagged");

    // And live again afterwards.
    let live = h
        .exec(
            t,
            "lead",
            Command::Comment {
                body: "live after the lag".into(),
            },
        )
        .await;
    h.project().await;
    let e = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("live after the resync")
        .expect("still open");
    assert_eq!(Some(e.record.position), live.position);
    let row = tokio::time::timeout(Duration::from_secs(10), updated.next())
        .await
        .expect("live ticketUpdated")
        .expect("still open");
    assert_eq!(row.version, 2 + ROUNDS as i64);
}

/// Waits (bounded) until `n` shared executions run.
async fn groups(h: &Harness, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.api.subscription_groups() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} shared executions, not {n}",
            h.api.subscription_groups()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn identical_subscriptions_share_one_execution_per_principal() {
    const LIVE: &str = "subscription { ticketEvents { position type ticketId } }";
    let h = spawn().await;
    let lead = h.user("lead", Role::Lead).await;
    let analyst = h.user("ana", Role::Analyst).await;

    let mut a = h.ws_acked(&lead).await;
    subscribe(&mut a, "a", LIVE, json!({})).await;
    groups(&h, 1).await;
    // Live-only subscriptions start when the server has polled them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut b = h.ws_acked(&lead).await;
    subscribe(&mut b, "b", LIVE, json!({})).await;
    // Another principal: an execution of its own.
    let mut c = h.ws_acked(&analyst).await;
    subscribe(&mut c, "c", LIVE, json!({})).await;
    groups(&h, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.api.subscription_groups(), 2, "b joined a's execution");

    let (t, opened) = h.open("lead", "shared", Severity::High).await;
    h.project().await;
    let cursor = opened.position.expect("position").cursor();
    for (ws, id) in [(&mut a, "a"), (&mut b, "b"), (&mut c, "c")] {
        let got = next_events(ws, id, 1).await;
        assert_eq!(got[0]["type"], "TicketOpened");
        assert_eq!(got[0]["ticketId"], t.to_string().as_str());
        assert_eq!(got[0]["position"], cursor.as_str());
    }

    // One member completing leaves the others subscribed.
    a.send(json!({"id": "a", "type": "complete"})).await;
    let started = h.exec(t, "lead", Command::Start).await;
    h.project().await;
    let got = next_events(&mut b, "b", 1).await;
    assert_eq!(got[0]["type"], "WorkStarted");
    assert_eq!(
        got[0]["position"],
        started.position.expect("position").cursor().as_str()
    );
    a.expect_silence(Duration::from_millis(300)).await;
    // The last member gone, its execution stops.
    drop(b);
    groups(&h, 1).await;
    drop(c);
    groups(&h, 0).await;
}

#[tokio::test]
async fn a_shared_subscription_that_cannot_run_is_an_error_for_each_subscriber() {
    const BAD: &str = "subscription { ticketEvents { nope } }";
    let h = spawn().await;
    let lead = h.user("lead", Role::Lead).await;
    for id in ["x", "y"] {
        let mut ws = h.ws_acked(&lead).await;
        subscribe(&mut ws, id, BAD, json!({})).await;
        let msg = ws.recv().await;
        assert_eq!(msg["id"], id, "{msg}");
        assert_eq!(msg["type"], "error", "{msg}");
        assert!(
            msg["payload"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("nope")),
            "{msg}"
        );
        // No `complete` after an `error`.
        ws.expect_silence(Duration::from_millis(300)).await;
    }
    groups(&h, 0).await;
}

#[tokio::test]
async fn a_shared_subscriber_that_falls_behind_goes_on_alone_with_no_gap_nor_duplicate() {
    use futures::StreamExt;

    const CAPACITY: usize = 2;
    const ROUNDS: usize = 8;
    const LIVE: &str = "subscription { ticketEvents { position type } }";
    let metrics = platform::telemetry::metrics();
    let counter = |name: &str| {
        metrics
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let joined_before = counter("ticketera_subscriptions_joined_total ");
    let h = crate::harness::spawn_with(|_, o| o.broadcast_capacity = CAPACITY).await;
    let (t, opened) = h.open("lead", "falling behind", Severity::Low).await;
    let opened = opened.position.expect("position");
    h.project().await;
    let viewer = query_api::viewer::Viewer {
        name: "lead".into(),
        kind: domain::ActorKind::User,
        roles: vec![Role::Lead],
        expires_at: i64::MAX,
    };
    let position = |(ty, payload): (&str, String)| -> Position {
        assert_eq!(ty, "next", "{payload}");
        let v: Value = serde_json::from_str(&payload).expect("JSON");
        pos(v["data"]["ticketEvents"]["position"]
            .as_str()
            .expect("position"))
    };

    // The first runs the execution; once it is live, the second joins it.
    let mut keeping_up = Box::pin(h.api.subscription_messages(LIVE, viewer.clone()));
    groups(&h, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut behind = Box::pin(h.api.subscription_messages(LIVE, viewer));
    assert!(
        counter("ticketera_subscriptions_joined_total ") >= joined_before + 1.0,
        "the second subscriber joined the first one's execution"
    );
    assert_eq!(h.api.subscription_groups(), 1);

    // More answers than the group's channel holds, the second not polled.
    for i in 0..ROUNDS {
        let done = h
            .exec(
                t,
                "lead",
                Command::Comment {
                    body: format!("behind {i}"),
                },
            )
            .await;
        let last = done.position.expect("position");
        h.project().await;
        let got = tokio::time::timeout(Duration::from_secs(10), keeping_up.next())
            .await
            .expect("the first subscriber keeps up")
            .expect("open");
        assert_eq!(position(got), last);
    }

    // Polled now: every event since it joined, once, in feed order.
    let expected: Vec<Position> = feed_order(&h)
        .await
        .into_iter()
        .filter(|p| *p > opened)
        .collect();
    assert_eq!(expected.len(), ROUNDS);
    let mut got = vec![];
    while got.len() < ROUNDS {
        let m = tokio::time::timeout(Duration::from_secs(10), behind.next())
            .await
            .expect("the one behind delivers")
            .expect("open");
        got.push(position(m));
    }
    assert_eq!(got, expected);
    let more = tokio::time::timeout(Duration::from_millis(300), behind.next()).await;
    assert!(more.is_err(), "no duplicate after going on alone");

    // Both live afterwards.
    let live = h
        .exec(
            t,
            "lead",
            Command::Comment {
                body: "live again".into(),
            },
        )
        .await;
    h.project().await;
    let live = live.position.expect("position");
    for s in [&mut keeping_up, &mut behind] {
        let m = tokio::time::timeout(Duration::from_secs(10), s.next())
            .await
            .expect("live")
            .expect("open");
        assert_eq!(position(m), live);
    }
}

#[tokio::test]
async fn a_null_after_position_is_shared_and_a_given_one_runs_alone() {
    // As the SPA subscribes: the argument always there, null when live.
    const SPA: &str = "subscription($after: String) {
      ticketEvents(afterPosition: $after) { position type }
    }";
    let h = spawn().await;
    let lead = h.user("lead", Role::Lead).await;
    let (_, opened) = h.open("lead", "before", Severity::Low).await;
    h.project().await;
    let opened = opened.position.expect("position").cursor();

    let mut live = h.ws_acked(&lead).await;
    subscribe(&mut live, "live", SPA, json!({"after": null})).await;
    groups(&h, 1).await;
    // Resuming from a position is a subscription of its own: no second
    // group (its variables differ, so it would be one).
    let mut resumed = h.ws_acked(&lead).await;
    subscribe(&mut resumed, "resumed", SPA, json!({"after": opened})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.api.subscription_groups(), 1);

    let (_, next) = h.open("lead", "after", Severity::Low).await;
    h.project().await;
    let next = next.position.expect("position").cursor();
    for (ws, id) in [(&mut live, "live"), (&mut resumed, "resumed")] {
        let got = next_events(ws, id, 1).await;
        assert_eq!(got[0]["position"], next.as_str(), "{id}");
    }
}
