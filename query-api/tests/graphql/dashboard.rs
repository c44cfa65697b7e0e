//! The dashboard's figures beyond the counters: the MTTA/MTTR trend, the
//! most affected destinations and dead letters per hour, for every role.

use domain::command::OpenTicket;
use domain::{Command, Resolution, Role, Severity, Source};
use serde_json::json;
use uuid::Uuid;

use crate::harness::spawn;

#[tokio::test]
async fn every_role_sees_the_trend_the_top_assets_and_dead_letters() {
    let h = spawn().await;
    let auditor = h.user("audrey", Role::Auditor).await;
    for (i, ip) in ["10.0.0.5", "10.0.0.5", "10.0.0.9"].iter().enumerate() {
        let id = Uuid::now_v7();
        h.exec(
            id,
            "audrey",
            Command::Open(OpenTicket {
                ticket_id: id,
                title: format!("alert {i}"),
                description: String::new(),
                severity: Severity::High,
                source: Source::Manual,
                source_ip: None,
                destination_ip: ip.parse().ok(),
                tags: vec![],
                origin: None,
            }),
        )
        .await;
        if i == 0 {
            h.exec(id, "audrey", Command::Start).await;
            h.exec(
                id,
                "audrey",
                Command::Resolve {
                    resolution: Some(Resolution::Benign),
                    summary: "fine".into(),
                },
            )
            .await;
        }
    }
    for reason in ["bad PRI", "bad PRI"] {
        sqlx::query("INSERT INTO dead_letters (transport, peer, reason, raw, original_size) VALUES ('udp', '192.0.2.1', $1, '\\x00', 1)")
            .bind(reason)
            .execute(&h.pool)
            .await
            .expect("dead letter");
    }
    h.project().await;

    let data = h
        .data(
            &auditor,
            "{ stats { openTickets
                 trend(days: 7) { current { from to opened resolved mtta mttr } previous { opened resolved mtta } }
                 topAssets(first: 5, days: 7) { destinationIp hostname tickets alerts }
                 deadLetters(hours: 24) { start count } } }",
            json!({}),
        )
        .await;
    let stats = &data["stats"];
    assert_eq!(stats["openTickets"], 2);
    let current = &stats["trend"]["current"];
    assert_eq!(current["opened"], 3);
    assert_eq!(current["resolved"], 1);
    assert!(
        current["mtta"].as_f64().is_some_and(|s| s >= 0.0),
        "{current}"
    );
    assert!(
        current["mttr"].as_f64().is_some_and(|s| s >= 0.0),
        "{current}"
    );
    assert_eq!(stats["trend"]["previous"]["opened"], 0);
    assert!(stats["trend"]["previous"]["mtta"].is_null());
    assert_eq!(
        stats["topAssets"],
        json!([
            {"destinationIp": "10.0.0.5", "hostname": null, "tickets": 2, "alerts": 0},
            {"destinationIp": "10.0.0.9", "hostname": null, "tickets": 1, "alerts": 0},
        ])
    );
    let letters: i64 = stats["deadLetters"]
        .as_array()
        .expect("dead letters")
        .iter()
        .map(|i| i["count"].as_i64().unwrap())
        .sum();
    assert_eq!(letters, 2);
}

/// Ingest throughput: an alert that opened a ticket counts one, a
/// correlated batch its count; a ticket opened by hand counts none.
#[tokio::test]
async fn alerts_per_hour_count_every_alert_received() {
    let h = spawn().await;
    let lead = h.user("lena", Role::Lead).await;
    let now = chrono::Utc::now();
    let from_alert = Uuid::now_v7();
    h.exec(
        from_alert,
        "lena",
        Command::Open(OpenTicket {
            ticket_id: from_alert,
            title: "brute force".into(),
            description: String::new(),
            severity: Severity::High,
            source: Source::Syslog,
            source_ip: None,
            destination_ip: None,
            tags: vec![],
            origin: Some(domain::command::AlertOrigin {
                rule_name: Some("ips".into()),
                ..Default::default()
            }),
        }),
    )
    .await;
    h.exec(
        from_alert,
        "lena",
        Command::CorrelateAlerts(domain::command::AlertBatch {
            count: 4,
            first_seen: now,
            last_seen: now,
            samples: vec![],
        }),
    )
    .await;
    let by_hand = Uuid::now_v7();
    h.exec(
        by_hand,
        "lena",
        Command::Open(OpenTicket {
            ticket_id: by_hand,
            title: "phone call".into(),
            description: String::new(),
            severity: Severity::Low,
            source: Source::Manual,
            source_ip: None,
            destination_ip: None,
            tags: vec![],
            origin: None,
        }),
    )
    .await;
    h.project().await;
    let data = h
        .data(
            &lead,
            "{ stats { alerts(hours: 24) { start count } } }",
            json!({}),
        )
        .await;
    let hours = data["stats"]["alerts"].as_array().expect("alerts");
    let total: i64 = hours.iter().filter_map(|i| i["count"].as_i64()).sum();
    assert_eq!(total, 5, "{hours:?}");
}

/// Top rules follow the dashboard's range: `days` counts the tickets opened
/// in it; without `days`, every ticket since the beginning.
#[tokio::test]
async fn top_rules_count_the_tickets_opened_in_the_range() {
    let h = spawn().await;
    let lead = h.user("lena", Role::Lead).await;
    let mut old = None;
    for (i, rule) in ["ips", "ips", "av"].iter().enumerate() {
        let id = Uuid::now_v7();
        h.exec(
            id,
            "lena",
            Command::Open(OpenTicket {
                ticket_id: id,
                title: format!("alert {i}"),
                description: String::new(),
                severity: Severity::High,
                source: Source::Syslog,
                source_ip: None,
                destination_ip: None,
                tags: vec![],
                origin: Some(domain::command::AlertOrigin {
                    rule_name: Some((*rule).into()),
                    ..Default::default()
                }),
            }),
        )
        .await;
        if i == 0 {
            old = Some(id);
        }
    }
    h.project().await;
    // One of the "ips" tickets was opened 40 days ago.
    sqlx::query(
        "UPDATE rm_tickets.tickets SET created_at = now() - interval '40 days' WHERE id = $1",
    )
    .bind(old)
    .execute(&h.pool)
    .await
    .expect("backdate");

    let data = h
        .data(
            &lead,
            "{ stats { week: topRules(first: 5, days: 7) { ruleName tickets }
                       ever: topRules(first: 5) { ruleName tickets } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["stats"]["week"],
        json!([{"ruleName": "av", "tickets": 1}, {"ruleName": "ips", "tickets": 1}])
    );
    assert_eq!(
        data["stats"]["ever"],
        json!([{"ruleName": "ips", "tickets": 2}, {"ruleName": "av", "tickets": 1}])
    );
}
