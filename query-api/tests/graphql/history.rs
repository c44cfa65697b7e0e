//! `ticketHistory`: one summary with the read model's timeline for every
//! event type (through the real projector), the exact field-level change of
//! every event, and long histories a page at a time in either direction.

use chrono::Utc;
use domain::command::{AlertBatch, SiemUpdate};
use domain::{Command, ObservableKind, Resolution, Role, Severity, Ticket};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{spawn, Harness};

/// A ticket through every event type, one event each (16 events),
/// assigned once to `assignee`.
async fn every_event_type(h: &Harness, assignee: &str) -> Uuid {
    let (id, _) = h
        .open("ana", "Beaconing to a rare domain", Severity::Low)
        .await;
    h.exec(
        id,
        "ana",
        Command::Assign {
            assignee: assignee.into(),
        },
    )
    .await;
    every_event_type_on(h, id).await
}

const HISTORY: &str = "query($id: ID!, $first: Int, $after: String, $reverse: Boolean) {
  ticketHistory(id: $id, first: $first, after: $after, reverse: $reverse) {
    sequence cursor type summary actor actorKind channel requestId recordedAt occurredAt
    changes { field before after }
  }
}";

#[tokio::test]
async fn the_timeline_and_the_history_say_the_same_of_every_event_type() {
    let h = spawn().await;
    let token = h.user("ana", Role::Analyst).await;
    let id = every_event_type(&h, "ana").await;
    h.project().await;

    let data = h
        .data(
            &token,
            "query($id: ID!) { ticket(id: $id) { timeline(first: 100) { sequence type summary actor } } }",
            json!({"id": id}),
        )
        .await;
    let timeline = data["ticket"]["timeline"]
        .as_array()
        .expect("timeline")
        .clone();
    let data = h.data(&token, HISTORY, json!({"id": id})).await;
    let history = data["ticketHistory"].as_array().expect("history").clone();

    assert_eq!(timeline.len(), 16);
    assert_eq!(history.len(), 16);
    let mut types = std::collections::BTreeSet::new();
    for (t, e) in timeline.iter().zip(&history) {
        assert_eq!(t["sequence"], e["sequence"]);
        assert_eq!(t["type"], e["type"]);
        assert_eq!(
            t["summary"], e["summary"],
            "the two summaries of {}",
            e["type"]
        );
        assert_eq!(t["actor"], e["actor"]);
        types.insert(e["type"].as_str().expect("type").to_string());
    }
    assert_eq!(types.len(), 16, "every event type: {types:?}");
    // The summary is the domain's, for the stored event.
    let stored = h.store.history(id).await.expect("history");
    for (s, e) in stored.iter().zip(&history) {
        assert_eq!(e["summary"], s.payload.describe());
    }
    let assigned = &history[1];
    assert_eq!(assigned["summary"], "ana assigned the ticket to ana");
    // Each event names the request that recorded it (the logs' key).
    for e in &history {
        assert!(
            e["requestId"].as_str().is_some_and(|r| !r.is_empty()),
            "{e}"
        );
    }
}

#[tokio::test]
async fn every_event_has_its_exact_change() {
    let h = spawn().await;
    let token = h.user("ana", Role::Auditor).await;
    h.identity
        .create_user(
            "ana2",
            None,
            crate::harness::PASSWORD,
            Role::Analyst,
            "t",
            None,
        )
        .await
        .expect("user");
    let id2 = every_event_type(&h, "ana2").await;
    let data = h.data(&token, HISTORY, json!({"id": id2})).await;
    let history = data["ticketHistory"].as_array().expect("history").clone();

    // The expected changes: the stored events folded with the domain's apply.
    let stored = h.store.history(id2).await.expect("history");
    let mut ticket = Ticket::default();
    for (s, e) in stored.iter().zip(&history) {
        let (next, changes) = ticket.applied(&s.payload);
        ticket = next;
        let expected: Vec<Value> = changes
            .iter()
            .map(|c| {
                json!({"field": c.field,
                       "before": if c.before.is_null() { Value::Null } else { c.before.clone() },
                       "after": if c.after.is_null() { Value::Null } else { c.after.clone() }})
            })
            .collect();
        assert_eq!(e["changes"], json!(expected), "changes of {}", e["type"]);
        assert!(
            !expected.is_empty(),
            "{} changed something visible",
            e["type"]
        );
    }
    let by_type = |t: &str| {
        history
            .iter()
            .find(|e| e["type"] == t)
            .unwrap_or_else(|| panic!("{t}"))["changes"]
            .clone()
    };
    assert_eq!(
        by_type("TicketUnassigned"),
        json!([{"field": "assignee", "before": "ana2", "after": null}])
    );
    assert_eq!(
        by_type("SeverityChanged"),
        json!([{"field": "severity", "before": "LOW", "after": "CRITICAL"}])
    );
    assert_eq!(
        by_type("TagsRemoved"),
        json!([{"field": "tags", "before": ["apt", "phishing"], "after": ["apt"]}])
    );
    let reopened = by_type("TicketReopened");
    assert_eq!(
        reopened[0],
        json!({"field": "status", "before": "CLOSED", "after": "IN_PROGRESS"})
    );
    assert_eq!(reopened[1]["field"], "resolution");

    // An event on its own (a subscription's, `Ticket.history`'s) folds the
    // same changes from the store.
    let data = h
        .data(
            &token,
            "query($id: ID!) { ticket: ticketAsOf(id: $id) { history { sequence changes { field before after } } } }",
            json!({"id": id2}),
        )
        .await;
    let folded = data["ticket"]["history"].as_array().expect("history");
    for (f, e) in folded.iter().zip(&history) {
        assert_eq!(f["changes"], e["changes"]);
    }
}

/// The events after the opening and an assignment of `id`: every other type.
async fn every_event_type_on(h: &Harness, id: Uuid) -> Uuid {
    let now = Utc::now();
    for command in [
        Command::Unassign,
        Command::Start,
        Command::Hold {
            reason: "waiting".into(),
        },
        Command::Resume,
        Command::ChangeSeverity {
            severity: Severity::Critical,
            reason: "crown jewel".into(),
        },
        Command::Comment {
            body: "isolated".into(),
        },
        Command::Tag {
            tags: vec!["apt".into()],
        },
        Command::Untag {
            tags: vec!["phishing".into()],
        },
        Command::AddObservable {
            kind: ObservableKind::Domain,
            value: "evil.example".into(),
        },
        Command::CorrelateAlerts(AlertBatch {
            count: 3,
            first_seen: now,
            last_seen: now,
            samples: vec!["<134>beacon".into()],
        }),
        Command::RecordSiemUpdate(SiemUpdate {
            incident_id: "4711".into(),
            status: Some("Active".into()),
            repeat_count: Some(9),
            raw: None,
        }),
        Command::Resolve {
            resolution: Some(Resolution::FalsePositive),
            summary: "a scanner".into(),
        },
        Command::Close {
            note: "reviewed".into(),
        },
        Command::Reopen {
            reason: "not a scanner".into(),
        },
    ] {
        h.exec(id, "ana", command).await;
    }
    id
}

#[tokio::test]
async fn a_long_history_comes_a_page_at_a_time_either_way() {
    let h = spawn().await;
    let token = h.user("ana", Role::Auditor).await;
    let (id, _) = h.open("ana", "chatty", Severity::Low).await;
    for i in 0..249 {
        h.exec(
            id,
            "ana",
            Command::Comment {
                body: format!("note {i}"),
            },
        )
        .await;
    }
    // 250 events: pages of 100, 100 and 50, oldest first.
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let data = h
            .data(
                &token,
                HISTORY,
                json!({"id": id, "first": 100, "after": after}),
            )
            .await;
        let page = data["ticketHistory"].as_array().expect("page").clone();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 100);
        after = page
            .last()
            .map(|e| e["cursor"].as_str().expect("cursor").to_string());
        seen.extend(page);
    }
    let sequences: Vec<i64> = seen
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=250).collect::<Vec<_>>());
    // A page's changes are those of the whole history's.
    assert_eq!(
        seen[180]["changes"],
        json!([{"field": "comments", "before": [], "after": [{
            "id": seen[180]["changes"][0]["after"][0]["id"],
            "author": "ana", "body": "note 179",
            "at": seen[180]["changes"][0]["after"][0]["at"]}]}])
    );

    // Newest first, from the newest, then before a cursor.
    let data = h
        .data(
            &token,
            HISTORY,
            json!({"id": id, "first": 3, "reverse": true}),
        )
        .await;
    let newest: Vec<i64> = data["ticketHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(newest, [250, 249, 248]);
    let data = h
        .data(
            &token,
            HISTORY,
            json!({"id": id, "first": 2, "reverse": true, "after": "3"}),
        )
        .await;
    let older: Vec<i64> = data["ticketHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(older, [2, 1]);
    assert_eq!(data["ticketHistory"][1]["changes"][0]["field"], "id");

    // Without `first`: the default page (100), costed as such; the rest
    // follows from the last event's cursor.
    let data = h
        .data(
            &token,
            "query($id: ID!) { ticketHistory(id: $id) { sequence } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data["ticketHistory"].as_array().unwrap().len(), 100);
    let data = h
        .data(
            &token,
            "query($id: ID!) { ticketHistory(id: $id, after: \"100\") { sequence } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data["ticketHistory"][0]["sequence"], 101);

    // Bad arguments are the client's error.
    for (vars, what) in [
        (json!({"id": id, "first": 0}), "first"),
        (json!({"id": id, "first": 10, "after": "p1_xyz"}), "after"),
    ] {
        let body = h.gql(&token, HISTORY, vars).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(what), "{body}");
    }
    // The cost follows `first`: a page of 1000 small rows is allowed, of
    // 1000 large ones (or of more than 1000) is not.
    let small = h
        .data(
            &token,
            "query($id: ID!) { ticketHistory(id: $id, first: 1000) { sequence } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(small["ticketHistory"].as_array().unwrap().len(), 250);
    for first in [1000, 1001] {
        let (status, body) = h
            .post(
                Some(&token),
                &json!({"query": "query($id: ID!, $first: Int) { ticketHistory(id: $id, first: $first) { sequence summary payload actor changes { field } } }",
                        "variables": {"id": id, "first": first}}),
            )
            .await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("complex") || message.contains("first"),
            "{first} rows of many fields are refused: {status} {body}"
        );
    }
}
