//! `ticketAsOf` at every version equals what the command side had then.

use chrono::{DateTime, Utc};
use domain::{Command, ObservableKind, Resolution, Role, Severity, Ticket};
use serde_json::{json, Value};

use crate::harness::spawn;

const AS_OF: &str = "query($id: ID!, $version: Int, $at: DateTime) {
  ticketAsOf(id: $id, version: $version, at: $at) {
    id number title description status severity resolution resolutionSummary duplicateOf
    source sourceIp destinationIp assignee assigneeName tags observables { kind value }
    alertCount commentCount comments { author body } createdAt updatedAt acknowledgedAt
    resolvedAt version timeline { sequence type summary }
  }
}";

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| {
        DateTime::parse_from_rfc3339(s)
            .expect("RFC 3339")
            .with_timezone(&Utc)
    })
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Every field of the view against the domain's state.
fn assert_same(view: &Value, t: &Ticket, what: &str) {
    assert_eq!(
        view["id"].as_str(),
        t.id.map(|i| i.to_string()).as_deref(),
        "{what}: id"
    );
    assert_eq!(opt_str(&view["number"]), t.number, "{what}: number");
    assert_eq!(view["title"], t.title.as_str(), "{what}: title");
    assert_eq!(
        view["description"],
        t.description.as_str(),
        "{what}: description"
    );
    assert_eq!(
        opt_str(&view["status"]),
        t.status.map(|s| s.to_string()),
        "{what}: status"
    );
    assert_eq!(
        opt_str(&view["severity"]),
        t.severity.map(|s| s.to_string()),
        "{what}: severity"
    );
    assert_eq!(
        opt_str(&view["resolution"]),
        t.resolution.map(|s| s.to_string()),
        "{what}: resolution"
    );
    assert_eq!(
        opt_str(&view["resolutionSummary"]),
        t.resolution_summary,
        "{what}: summary"
    );
    assert_eq!(
        opt_str(&view["duplicateOf"]),
        t.duplicate_of.map(|u| u.to_string()),
        "{what}: duplicateOf"
    );
    assert_eq!(
        opt_str(&view["source"]),
        t.source.map(|s| s.to_string()),
        "{what}: source"
    );
    assert_eq!(
        opt_str(&view["sourceIp"]),
        t.source_ip.map(|s| s.to_string()),
        "{what}: sourceIp"
    );
    assert_eq!(
        opt_str(&view["destinationIp"]),
        t.destination_ip.map(|s| s.to_string()),
        "{what}: destinationIp"
    );
    assert_eq!(opt_str(&view["assignee"]), t.assignee, "{what}: assignee");
    let tags: Vec<String> = serde_json::from_value(view["tags"].clone()).expect("tags");
    assert_eq!(
        tags,
        t.tags.iter().cloned().collect::<Vec<_>>(),
        "{what}: tags"
    );
    let observables: Vec<(String, String)> = view["observables"]
        .as_array()
        .expect("observables")
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or_default().into(),
                o["value"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = t
        .observables
        .iter()
        .map(|o| (o.kind.to_string(), o.value.clone()))
        .collect();
    assert_eq!(observables, expected, "{what}: observables");
    assert_eq!(
        view["alertCount"].as_u64(),
        Some(t.alert_count),
        "{what}: alertCount"
    );
    assert_eq!(
        view["commentCount"].as_u64(),
        Some(t.comments.len() as u64),
        "{what}: commentCount"
    );
    let comments: Vec<(String, String)> = view["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| {
            (
                c["author"].as_str().unwrap_or_default().into(),
                c["body"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = t
        .comments
        .iter()
        .map(|c| (c.author.clone(), c.body.clone()))
        .collect();
    assert_eq!(comments, expected, "{what}: comments");
    assert_eq!(time(&view["createdAt"]), t.created_at, "{what}: createdAt");
    assert_eq!(time(&view["updatedAt"]), t.updated_at, "{what}: updatedAt");
    assert_eq!(
        time(&view["acknowledgedAt"]),
        t.acknowledged_at,
        "{what}: acknowledgedAt"
    );
    assert_eq!(
        time(&view["resolvedAt"]),
        t.resolved_at,
        "{what}: resolvedAt"
    );
    assert_eq!(view["version"].as_u64(), Some(t.version), "{what}: version");
    assert_eq!(
        view["timeline"].as_array().map(Vec::len),
        Some(t.version as usize),
        "{what}: timeline"
    );
}

#[tokio::test]
async fn as_of_every_version_equals_the_command_side_state_then() {
    let h = spawn().await;
    let lead = h.user("lead1", Role::Lead).await;
    h.user("ana", Role::Analyst).await;
    let auditor = h.user("audrey", Role::Auditor).await;
    let (id, opened) = h
        .open("lead1", "Beaconing to a rare domain", Severity::Medium)
        .await;
    let mut states = vec![opened.ticket.clone()];
    let commands = vec![
        Command::Assign {
            assignee: "ana".into(),
        },
        Command::Start,
        Command::Comment {
            body: "Looks like C2 traffic.\nChecking the proxy logs.".into(),
        },
        Command::Tag {
            tags: vec!["c2".into(), "Beacon".into()],
        },
        Command::AddObservable {
            kind: ObservableKind::Domain,
            value: "Evil.Example.TEST".into(),
        },
        Command::ChangeSeverity {
            severity: Severity::High,
            reason: "second host affected".into(),
        },
        Command::Hold {
            reason: "waiting for the proxy team".into(),
        },
        Command::Resume,
        Command::Untag {
            tags: vec!["phishing".into()],
        },
        Command::Unassign,
        Command::Assign {
            assignee: "lead1".into(),
        },
        Command::Comment {
            body: "Confirmed.".into(),
        },
        Command::Resolve {
            resolution: Some(Resolution::TruePositive),
            summary: "host reimaged".into(),
        },
        Command::Reopen {
            reason: "beacon seen again".into(),
        },
        Command::Resolve {
            resolution: Some(Resolution::Benign),
            summary: "it was a scanner".into(),
        },
        Command::Close {
            note: "done".into(),
        },
    ];
    for command in commands {
        let outcome = h.exec(id, "lead1", command).await;
        assert_eq!(outcome.ticket.version as usize, states.len() + 1);
        // The command side's own reload agrees with what the command returned.
        assert_eq!(h.store.load(id).await.expect("load"), outcome.ticket);
        states.push(outcome.ticket);
    }

    // By version, through two roles.
    for (i, expected) in states.iter().enumerate() {
        let version = i + 1;
        for token in [&lead, &auditor] {
            let data = h
                .data(token, AS_OF, json!({"id": id, "version": version}))
                .await;
            assert_same(&data["ticketAsOf"], expected, &format!("version {version}"));
        }
    }
    // By number too; and beyond the last version it stays at the last.
    let number = states[0].number.clone().expect("number");
    let data = h
        .data(&lead, AS_OF, json!({"id": number, "version": 99}))
        .await;
    assert_same(
        &data["ticketAsOf"],
        states.last().expect("last"),
        "by number",
    );
    let data = h.data(&lead, AS_OF, json!({"id": id})).await;
    assert_same(&data["ticketAsOf"], states.last().expect("last"), "now");

    // By instant: the ticket after its last event recorded at or before it.
    let history = h.store.history(id).await.expect("history");
    assert_eq!(history.len(), states.len());
    for e in &history {
        let at = e.recorded_at;
        let last = history
            .iter()
            .filter(|x| x.recorded_at <= at)
            .map(|x| x.sequence)
            .max()
            .expect("some");
        let data = h
            .data(
                &lead,
                AS_OF,
                json!({"id": id, "at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)}),
            )
            .await;
        assert_same(
            &data["ticketAsOf"],
            &states[last as usize - 1],
            &format!("at {at}"),
        );
    }
    let before = history[0].recorded_at - chrono::Duration::microseconds(1);
    let data = h
        .data(
            &lead,
            AS_OF,
            json!({"id": id, "at": before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)}),
        )
        .await;
    assert!(
        data["ticketAsOf"].is_null(),
        "before the first event: {data}"
    );

    // History: every event once, in order, with positions increasing in feed order.
    let data = h
        .data(
            &auditor,
            "query($id: ID!) { ticketHistory(id: $id) { position sequence ticketId type recordedAt actor payload } }",
            json!({"id": id}),
        )
        .await;
    let events = data["ticketHistory"].as_array().expect("history");
    assert_eq!(events.len(), states.len());
    for (i, (e, stored)) in events.iter().zip(&history).enumerate() {
        assert_eq!(e["sequence"].as_u64(), Some(i as u64 + 1));
        assert_eq!(e["type"], stored.event_type.as_str());
        assert_eq!(e["ticketId"], id.to_string().as_str());
        assert_eq!(e["actor"], "lead1");
        assert_eq!(e["position"], stored.position.cursor().as_str());
        assert!(e["payload"].is_object(), "{e}");
    }
    assert_eq!(events[0]["payload"]["title"], "Beaconing to a rare domain");
    assert_eq!(events[2]["payload"]["by"], "lead1");

    // A ticket that never existed: null, and an empty history.
    let data = h
        .data(&lead, AS_OF, json!({"id": uuid::Uuid::new_v4()}))
        .await;
    assert!(data["ticketAsOf"].is_null());
}

/// The decoded streams are cached: a ticket that moved on after a read is
/// still seen as it is now, and its earlier versions as they were.
#[tokio::test]
async fn as_of_follows_a_ticket_that_moved_on_after_it_was_read() {
    let h = spawn().await;
    let lead = h.user("lead1", Role::Lead).await;
    let (id, opened) = h.open("lead1", "Port scan", Severity::Low).await;
    let data = h.data(&lead, AS_OF, json!({"id": id})).await;
    assert_same(&data["ticketAsOf"], &opened.ticket, "now, before");
    let started = h.exec(id, "lead1", Command::Start).await;
    let commented = h
        .exec(
            id,
            "lead1",
            Command::Comment {
                body: "scanner of the red team".into(),
            },
        )
        .await;
    let data = h.data(&lead, AS_OF, json!({"id": id})).await;
    assert_same(&data["ticketAsOf"], &commented.ticket, "now, after");
    let data = h.data(&lead, AS_OF, json!({"id": id, "version": 2})).await;
    assert_same(&data["ticketAsOf"], &started.ticket, "version 2");
    let data = h.data(&lead, AS_OF, json!({"id": id, "version": 1})).await;
    assert_same(&data["ticketAsOf"], &opened.ticket, "version 1");
}
