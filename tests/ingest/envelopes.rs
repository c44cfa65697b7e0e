//! A FortiGate behind a relay: the same "admin login failed" event in the
//! envelopes rsyslog, syslog-ng and file shippers write around it, sent
//! over UDP to a running `ticketera serve`, opens one ticket (every
//! envelope is the same alert, so they correlate into it).

use domain::Role;
use serde_json::Value;

use crate::helpers::fresh_database;
use crate::process::*;

/// fortigate.log:8 without its `<185>`.
fn payload() -> String {
    let line = sample_lines("fortigate.log").remove(7);
    let text = String::from_utf8(line).expect("utf-8");
    text.strip_prefix("<185>").expect("a PRI").to_string()
}

#[tokio::test]
async fn a_fortigate_alert_behind_a_relay_opens_a_ticket() {
    let (db_url, pool) = fresh_database().await;
    let app = spawn("serve", &db_url, &[]);
    let token = token(&pool, Role::Analyst).await;
    let kv = payload();
    let envelopes = [
        // RFC 3339 timestamp and the relay's host, no PRI (file shippers,
        // rsyslog's RSYSLOG_FileFormat).
        format!("2026-11-27T13:14:04.120+00:00 relay01.corp.example {kv}"),
        // RFC 3164 without a PRI, the relay's host an address.
        format!("Nov 27 13:14:04 192.0.2.10 {kv}"),
        // A relay's header, then the device's own `<PRI>`.
        format!("Nov 27 13:14:04 relay01 <185>{kv}"),
        // A bare `<PRI>` and an RFC 3339 header before key=value.
        format!("<185>2026-11-27T13:14:04Z relay01 {kv}"),
    ];
    let lines: Vec<Vec<u8>> = envelopes.iter().map(|l| l.clone().into_bytes()).collect();
    app.send_udp(&lines).await;
    let ticket: Value = eventually(30, "one ticket with every relayed alert", || async {
        let t = tickets(&app, &token).await;
        (t.len() == 1 && t[0]["alertCount"].as_i64() == Some(lines.len() as i64))
            .then(|| t[0].clone())
    })
    .await;
    assert_eq!(ticket["ruleName"], "Admin login failed", "{ticket}");
    assert_eq!(ticket["severity"], "CRITICAL");
    assert_eq!(ticket["source"], "SYSLOG");
    assert_eq!(ticket["sourceIp"], "203.0.113.8");
    assert_eq!(ticket["destinationIp"], "10.20.1.1");
    let m = app.metrics().await;
    assert_eq!(
        metric_sum(&m, "ticketera_ingest_dead_lettered_total"),
        0.0,
        "{m}"
    );
}
