//! Exactly one ticket per fingerprint when the same alert arrives at once
//! over UDP, TCP and the webhook, from several senders, at two `ticketera
//! ingest` processes; and every alert counted on it.

use std::collections::HashSet;

use domain::Role;
use serde_json::{json, Value};

use crate::helpers::fresh_database;
use crate::process::*;

const PER_SENDER: usize = 40;
const UDP_SENDERS: usize = 3;
const TCP_SENDERS: usize = 2;
const WEBHOOK_SENDERS: usize = 2;
const PER_WEBHOOK_SENDER: usize = 10;

/// The shipped rules, except that FortiSIEM incidents correlate by the
/// default key (vendor, rule name, IPs) instead of by incident id: then a
/// FortiSIEM incident and a FortiGate log of the same attack are one alert.
fn rules_file() -> std::path::PathBuf {
    let text =
        ingest::rules::DEFAULT_RULES.replace("correlation_key = [\"vendor\", \"incident_id\"]", "");
    assert_ne!(text, ingest::rules::DEFAULT_RULES, "the FortiSIEM key line");
    let path = log_path("rules").with_extension("toml");
    std::fs::write(&path, text).expect("rules file");
    path
}

fn incident(n: usize) -> Value {
    json!({
        "incidentId": 90_000 + n,
        "eventName": "Apache.Log4j.Error.Log.Remote.Code.Execution",
        "eventSeverity": 10,
        "incidentStatus": 0,
        "incidentSrc": "srcIpAddr:203.0.113.45,",
        "incidentTarget": "destIpAddr:10.20.1.15,",
        "count": 1
    })
}

#[tokio::test]
async fn one_ticket_for_one_alert_from_udp_tcp_and_webhook_at_two_processes() {
    let (db_url, pool) = fresh_database().await;
    let siem = token(&pool, Role::Integration).await;
    let rules = rules_file();
    let env = [
        ("TICKETERA_RULES_FILE", rules.display().to_string()),
        ("TICKETERA_CORRELATION_WINDOW_MS", "200".to_string()),
    ];
    let a = spawn("ingest", &db_url, &env);
    let b = spawn("ingest", &db_url, &env);
    let line = sample_lines("fortigate.log").remove(0);

    let mut tasks = vec![];
    for p in [&a, &b] {
        for _ in 0..UDP_SENDERS {
            let (udp, line) = (p.udp.expect("udp"), line.clone());
            tasks.push(tokio::spawn(async move {
                let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                for _ in 0..PER_SENDER {
                    sock.send_to(&line, udp).await.expect("send");
                    tokio::task::yield_now().await;
                }
                vec![]
            }));
        }
        for s in 0..TCP_SENDERS {
            let (tcp, line) = (p.tcp.expect("tcp"), line.clone());
            tasks.push(tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut c = tokio::net::TcpStream::connect(tcp).await.expect("connect");
                for _ in 0..PER_SENDER {
                    if s % 2 == 0 {
                        c.write_all(format!("{} ", line.len()).as_bytes())
                            .await
                            .expect("write");
                        c.write_all(&line).await.expect("write");
                    } else {
                        c.write_all(&line).await.expect("write");
                        c.write_all(b"\n").await.expect("write");
                    }
                }
                c.shutdown().await.expect("close");
                vec![]
            }));
        }
        for s in 0..WEBHOOK_SENDERS {
            let (url, siem) = (p.url("/api/v1/integrations/webhook"), siem.clone());
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut answers = vec![];
                for i in 0..PER_WEBHOOK_SENDER {
                    let res = client
                        .post(&url)
                        .bearer_auth(&siem)
                        .json(&incident(s * 100 + i))
                        .send()
                        .await
                        .expect("webhook");
                    assert_eq!(res.status(), 202);
                    answers.push(res.json::<Value>().await.expect("json"));
                }
                answers
            }));
        }
    }
    let mut answers = vec![];
    for t in tasks {
        answers.extend(t.await.expect("sender"));
    }
    let total =
        2 * (UDP_SENDERS + TCP_SENDERS) * PER_SENDER + 2 * WEBHOOK_SENDERS * PER_WEBHOOK_SENDER;

    let (opened, counted, batches) = eventually(30, "every alert on the ticket", || async {
        let (opened, counted, batches): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE event_type = 'TicketOpened'),
                    count(*) FILTER (WHERE event_type = 'TicketOpened')
                      + coalesce(sum((payload -> 'AlertsCorrelated' -> 'batch' ->> 'count')::bigint), 0)::bigint,
                    count(*) FILTER (WHERE event_type = 'AlertsCorrelated')
               FROM events",
        )
        .fetch_one(&pool)
        .await
        .expect("events");
        (counted as usize >= total).then_some((opened, counted, batches))
    })
    .await;
    assert_eq!(opened, 1, "exactly one ticket");
    assert_eq!(counted as usize, total, "every alert counted once");
    assert!(
        (batches as usize) < total / 4,
        "a flood adds few events: {batches} batches for {total} alerts"
    );
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM alert_fingerprints")
        .fetch_one(&pool)
        .await
        .expect("owners");
    assert_eq!(owners, 1);

    // The webhook answered with that ticket each time.
    let ids: HashSet<String> = answers
        .iter()
        .map(|a| a["ticket_id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|a| matches!(a["outcome"].as_str(), Some("opened" | "correlated"))));

    // Nothing dropped anywhere.
    for p in [&a, &b] {
        let m = p.metrics().await;
        assert_eq!(metric_sum(&m, "ticketera_ingest_dropped_total"), 0.0, "{m}");
        assert!(metric_sum(&m, "ticketera_ingest_received_total") > 0.0);
    }
}
