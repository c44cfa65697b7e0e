//! What the SPA's ticket page and queue pivots read: the `observable`
//! filter (an address or observable value a ticket carries) and the alerts
//! correlated into a ticket, raw messages only when asked for.

use chrono::{Duration, Utc};
use domain::command::{AlertBatch, AlertOrigin, OpenTicket};
use domain::{Command, ObservableKind, Role, Severity, Source};
use serde_json::json;
use uuid::Uuid;

use crate::harness::spawn;

const BY_OBSERVABLE: &str = "query($v: String) {
  tickets(filter: {observable: $v}, orderBy: {field: NUMBER, direction: ASC}) { totalCount nodes { number } }
}";

#[tokio::test]
async fn the_observable_filter_matches_addresses_and_observables_exactly() {
    let h = spawn().await;
    let token = h.user("lead", Role::Lead).await;
    // SOC-1 and SOC-2 come from 203.0.113.7 (the harness's source address).
    let (first, _) = h.open("lead", "first", Severity::High).await;
    h.open("lead", "second", Severity::Low).await;
    h.exec(
        first,
        "lead",
        Command::AddObservable {
            kind: ObservableKind::Domain,
            value: "evil.example".into(),
        },
    )
    .await;
    h.project().await;

    let count = |v: &'static str| {
        let h = &h;
        let token = token.clone();
        async move {
            let d = h.data(&token, BY_OBSERVABLE, json!({"v": v})).await;
            d["tickets"]["totalCount"].as_i64().unwrap()
        }
    };
    assert_eq!(count("203.0.113.7").await, 2);
    assert_eq!(count(" 203.0.113.7 ").await, 2, "trimmed");
    assert_eq!(count("evil.example").await, 1);
    assert_eq!(count("evil").await, 0, "exact, not a substring");
    assert_eq!(count("198.51.100.1").await, 0);
    let errors = h.gql(&token, BY_OBSERVABLE, json!({"v": "a\u{0}b"})).await;
    assert_eq!(
        errors["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{errors}"
    );
}

#[tokio::test]
async fn a_tickets_alerts_come_from_its_events_with_raw_messages_on_demand() {
    let h = spawn().await;
    let token = h.user("auditor", Role::Auditor).await;
    let id = Uuid::now_v7();
    let seen = Utc::now() - Duration::minutes(5);
    h.exec(
        id,
        "ingest",
        Command::Open(OpenTicket {
            ticket_id: id,
            title: "FortiGate IPS".into(),
            description: String::new(),
            severity: Severity::High,
            source: Source::Syslog,
            source_ip: "198.51.100.9".parse().ok(),
            destination_ip: None,
            tags: vec![],
            origin: Some(AlertOrigin {
                vendor: Some("Fortinet".into()),
                rule_name: Some("ips".into()),
                event_time: Some(seen),
                raw: Some("<189>date=2026-12-02 type=utm subtype=ips".into()),
                ..AlertOrigin::default()
            }),
        }),
    )
    .await;
    h.exec(
        id,
        "ingest",
        Command::CorrelateAlerts(AlertBatch {
            count: 3,
            first_seen: seen + Duration::minutes(1),
            last_seen: seen + Duration::minutes(2),
            samples: vec!["raw one".into(), "raw two".into()],
        }),
    )
    .await;
    h.project().await;

    let summary = h
        .data(
            &token,
            "query($id: ID) { ticket(id: $id) { alertCount alerts { sequence kind count firstSeen lastSeen } } }",
            json!({"id": id.to_string()}),
        )
        .await;
    let alerts = summary["ticket"]["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{summary}");
    assert_eq!(alerts[0]["kind"], "opened");
    assert_eq!(alerts[0]["sequence"], 1);
    assert_eq!(alerts[1]["kind"], "correlated");
    assert_eq!(alerts[1]["count"], 3);
    let total: i64 = alerts.iter().map(|a| a["count"].as_i64().unwrap()).sum();
    assert_eq!(summary["ticket"]["alertCount"].as_i64().unwrap(), total);

    let raw = h
        .data(
            &token,
            "query($id: ID) { ticket(id: $id) { alerts { samples } } }",
            json!({"id": id.to_string()}),
        )
        .await;
    assert_eq!(
        raw["ticket"]["alerts"],
        json!([{"samples": ["<189>date=2026-12-02 type=utm subtype=ips"]}, {"samples": ["raw one", "raw two"]}])
    );

    // As of version 1, only the alert it was opened from.
    let then = h
        .data(
            &token,
            "query($id: ID!) { ticketAsOf(id: $id, version: 1) { alerts { kind } } }",
            json!({"id": id.to_string()}),
        )
        .await;
    assert_eq!(then["ticketAsOf"]["alerts"], json!([{"kind": "opened"}]));
}
