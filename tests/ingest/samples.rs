//! Every line of the samples gives its README outcome end to end: sent over
//! UDP, then again over TCP, to a running `ticketera serve`; tickets read
//! back over GraphQL.

use domain::Role;
use serde_json::Value;

use crate::helpers::fresh_database;
use crate::process::*;

/// (file, line, severity, rule_name, source_ip, destination_ip)
type Row = (
    &'static str,
    usize,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const ALERTS: &[Row] = &[
    (
        "fortigate.log",
        1,
        "CRITICAL",
        "Apache.Log4j.Error.Log.Remote.Code.Execution",
        Some("203.0.113.45"),
        Some("10.20.1.15"),
    ),
    (
        "fortigate.log",
        2,
        "CRITICAL",
        "EICAR_TEST_FILE",
        Some("10.20.5.77"),
        Some("198.51.100.20"),
    ),
    (
        "fortigate.log",
        3,
        "CRITICAL",
        "icmp_flood",
        Some("192.0.2.200"),
        Some("10.20.1.10"),
    ),
    (
        "fortigate.log",
        6,
        "HIGH",
        "Malicious Websites",
        Some("10.30.7.12"),
        Some("203.0.113.99"),
    ),
    (
        "fortigate.log",
        8,
        "CRITICAL",
        "Admin login failed",
        Some("203.0.113.8"),
        Some("10.20.1.1"),
    ),
    (
        "windows-snare.log",
        1,
        "MEDIUM",
        "Windows 4625: failed logon",
        Some("10.20.5.77"),
        None,
    ),
    (
        "windows-snare.log",
        2,
        "HIGH",
        "Windows 1102: audit log cleared",
        None,
        None,
    ),
    (
        "windows-nxlog.jsonl",
        1,
        "MEDIUM",
        "Windows 4625: failed logon",
        Some("203.0.113.66"),
        None,
    ),
    (
        "windows-nxlog.jsonl",
        2,
        "HIGH",
        "Windows 4688: encoded PowerShell from an Office parent",
        None,
        None,
    ),
    (
        "windows-nxlog.jsonl",
        3,
        "MEDIUM",
        "Windows 4720: user account created",
        None,
        None,
    ),
    (
        "cef.log",
        1,
        "CRITICAL",
        "ET EXPLOIT Possible Log4j RCE Attempt",
        Some("203.0.113.45"),
        Some("10.20.1.15"),
    ),
    (
        "cef.log",
        2,
        "HIGH",
        "spyware",
        Some("10.20.5.77"),
        Some("198.51.100.20"),
    ),
];

const FILES: &[&str] = &[
    "fortigate.log",
    "windows-snare.log",
    "windows-nxlog.jsonl",
    "cef.log",
];

/// Lines of the sample files that are not alerts (README table).
const NOT_ALERTS: usize = 4;

fn find<'a>(tickets: &'a [Value], row: &Row) -> Option<&'a Value> {
    let (_, _, _, rule, src, dst) = row;
    tickets.iter().find(|t| {
        t["ruleName"].as_str() == Some(rule)
            && t["sourceIp"].as_str() == *src
            && t["destinationIp"].as_str() == *dst
    })
}

/// All rows have their ticket with `alerts` alerts; returns the tickets.
fn complete(tickets: &[Value], alerts: i64) -> bool {
    tickets.len() == ALERTS.len()
        && ALERTS
            .iter()
            .all(|row| find(tickets, row).is_some_and(|t| t["alertCount"].as_i64() == Some(alerts)))
}

#[tokio::test]
async fn every_sample_line_gives_its_outcome_over_udp_and_tcp() {
    let (db_url, pool) = fresh_database().await;
    let mut app = spawn("serve", &db_url, &[]);
    let token = token(&pool, Role::Analyst).await;

    // Over UDP: one ticket per alert row, none for the others.
    for file in FILES {
        app.send_udp(&sample_lines(file)).await;
    }
    let found = eventually(30, "a ticket for every alert line (UDP)", || async {
        let t = tickets(&app, &token).await;
        complete(&t, 1).then_some(t)
    })
    .await;
    for row in ALERTS {
        let t = find(&found, row).expect("ticket");
        let (file, line, severity, ..) = row;
        assert_eq!(t["severity"], *severity, "{file}:{line} severity: {t}");
        assert_eq!(t["source"], "SYSLOG", "{file}:{line}");
        assert_eq!(t["status"], "NEW", "{file}:{line}");
    }

    // Over TCP (octet counting for some files, LF framing for the others):
    // the same alerts correlate into the same tickets.
    for (i, file) in FILES.iter().enumerate() {
        app.send_tcp(&sample_lines(file), i % 2 == 0).await;
    }
    eventually(30, "every ticket with two alerts (UDP + TCP)", || async {
        let t = tickets(&app, &token).await;
        complete(&t, 2).then_some(())
    })
    .await;

    let m = app.metrics().await;
    let received = metric_sum(&m, "ticketera_ingest_received_total");
    let lines: usize = FILES.iter().map(|f| sample_lines(f).len()).sum();
    assert_eq!(received as usize, 2 * lines, "{m}");
    assert_eq!(
        metric(&m, "ticketera_ingest_alerts_total") as usize,
        2 * ALERTS.len()
    );
    assert_eq!(
        metric(&m, "ticketera_ingest_not_alert_total") as usize,
        2 * NOT_ALERTS
    );
    assert_eq!(metric_sum(&m, "ticketera_ingest_dropped_total"), 0.0, "{m}");

    // Malformed input: dead-lettered or not an alert; no ticket; the
    // service keeps running.
    let malformed = sample_lines("malformed.log");
    app.send_udp(&malformed).await;
    app.send_tcp(&malformed, false).await;
    app.send_tcp(&malformed, true).await;
    let expected_received = received as usize
        + malformed.len() // UDP: an empty datagram is a message too
        + 2 * malformed.iter().filter(|l| !l.is_empty()).count();
    let m = eventually(20, "every malformed line accounted for", || async {
        let m = app.metrics().await;
        let received = metric_sum(&m, "ticketera_ingest_received_total") as usize;
        let parsed = metric(&m, "ticketera_ingest_parsed_total") as usize;
        let dead = metric_sum(&m, "ticketera_ingest_dead_lettered_total") as usize;
        (received == expected_received && parsed + dead == received).then_some(m)
    })
    .await;
    let dead = metric_sum(&m, "ticketera_ingest_dead_lettered_total");
    assert!(
        dead >= 3.0 * 4.0,
        "most malformed lines are dead letters: {m}"
    );
    let stored: i64 = eventually(10, "dead letters stored", || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
            .fetch_one(&pool)
            .await
            .expect("count");
        (n as f64 == dead).then_some(n)
    })
    .await;
    let reasons: Vec<(String, String)> =
        sqlx::query_as("SELECT transport, reason FROM dead_letters ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("dead letters");
    assert!(
        reasons.iter().any(|(_, r)| r.contains("PRI")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|(t, _)| t == "udp") && reasons.iter().any(|(t, _)| t == "tcp"));
    assert_eq!(stored as f64, dead);

    // Readable by admins (and auditors), not by analysts.
    let auditor = crate::process::token(&pool, Role::Auditor).await;
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/admin/dead-letters?limit=5"))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("dead letters");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(5), "{body}");
    let first = &body["items"][0];
    assert!(
        first["reason"].is_string() && first["size"].is_u64(),
        "{first}"
    );
    assert!(
        first.get("raw_base64").is_none(),
        "the list leaves the bytes out: {first}"
    );
    // The bytes come with the one letter.
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/admin/dead-letters/{}", first["id"])))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("dead letter");
    assert_eq!(res.status(), 200);
    let letter: Value = res.json().await.expect("json");
    assert!(
        letter["raw_base64"].is_string() && letter["raw_text"].is_string(),
        "{letter}"
    );
    assert_eq!(letter["size"], first["size"]);
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/admin/dead-letters"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("dead letters");
    assert_eq!(res.status(), 403);

    // Nothing new was opened, and the process is still up.
    let t = tickets(&app, &token).await;
    assert!(complete(&t, 2), "no ticket from malformed input");
    assert!(app.alive(), "{}", app.log_text());
    let health = reqwest::get(app.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);
}
