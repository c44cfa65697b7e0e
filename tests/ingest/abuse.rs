//! Abuse limits of the syslog listeners and the correlator: senders outside
//! the allowed networks, a sender over its rate, a sender over its TCP
//! connection cap, the queue's byte bound, and alert storms (a rule's new
//! tickets per interval, the correlator's fingerprints). Each refusal is
//! counted under its own reason and every message stays accounted for.
//! A second sender is 127.0.0.2 (Linux routes all of 127.0.0.0/8 to lo).

use std::time::Duration;

use domain::Role;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::fresh_database;
use crate::process::*;

const OTHER_SENDER: &str = "127.0.0.2";

fn dropped(m: &str, reason: &str) -> f64 {
    metric(
        m,
        &format!("ticketera_ingest_dropped_total{{reason=\"{reason}\"}}"),
    )
}

/// A FortiGate traffic log: parsed, not an alert.
fn traffic() -> Vec<u8> {
    sample_lines("fortigate.log").remove(3)
}

/// `n` FortiGate IPS alerts of one rule, each from its own source address:
/// `n` fingerprints.
fn alerts_of_one_rule(n: usize) -> Vec<Vec<u8>> {
    let line = String::from_utf8(sample_lines("fortigate.log").remove(0)).expect("utf-8");
    assert!(line.contains("srcip=203.0.113.45"), "{line}");
    (0..n)
        .map(|i| {
            line.replace(
                "srcip=203.0.113.45",
                &format!("srcip=198.18.{}.{}", i / 250, i % 250 + 1),
            )
            .into_bytes()
        })
        .collect()
}

/// True when the server closes `stream` (end of stream or reset) within `secs`.
async fn closed_by_server(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn syslog_from_outside_the_allowed_senders_is_refused_and_counted() {
    let (db_url, pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[(
            "TICKETERA_SYSLOG_ALLOWED_SENDERS",
            "127.0.0.1/32, 10.0.0.0/8".to_string(),
        )],
    );
    app.send_udp_from(OTHER_SENDER, &vec![traffic(); 5]).await;
    // Unparseable, so each leaves a dead letter naming its sender.
    app.send_udp(&vec![b"<999>from an allowed sender".to_vec(); 3])
        .await;
    let mut refused = app.connect_tcp_from(OTHER_SENDER).await;
    let _ = refused.write_all(&traffic()).await;
    assert!(
        closed_by_server(&mut refused, Duration::from_secs(10)).await,
        "a TCP connection from outside the allowed senders is closed"
    );

    let m = accounted(&app, |c| c.received == 8.0).await;
    assert_eq!(dropped(&m, "sender_not_allowed"), 5.0, "{m}");
    assert_eq!(dropped(&m, "connection_not_allowed"), 1.0, "{m}");
    assert_eq!(metric(&m, "ticketera_ingest_parsed_total"), 0.0, "{m}");
    assert_eq!(
        metric(
            &m,
            "ticketera_ingest_dead_lettered_total{transport=\"udp\"}"
        ),
        3.0,
        "{m}"
    );
    let peers: Vec<String> = sqlx::query_scalar("SELECT peer FROM dead_letters")
        .fetch_all(&pool)
        .await
        .expect("dead letters");
    assert!(
        peers.iter().all(|p| p.starts_with("127.0.0.1:")),
        "{peers:?}"
    );
}

#[tokio::test]
async fn a_sender_over_its_rate_is_limited_while_another_still_gets_through() {
    let (db_url, pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[("TICKETERA_SYSLOG_PEER_RATE", "20".to_string())],
    );
    // 127.0.0.2 floods (traffic logs: parsed, no ticket work) over UDP and TCP...
    app.send_udp_from(OTHER_SENDER, &vec![traffic(); 300]).await;
    let mut tcp = app.connect_tcp_from(OTHER_SENDER).await;
    write_frames(&mut tcp, &vec![traffic(); 100], false).await;
    tcp.shutdown().await.expect("shutdown");
    // ...while 127.0.0.1 sends ten unparseable lines, within its own rate.
    app.send_udp(&vec![b"<999>from a quiet sender".to_vec(); 10])
        .await;

    let m = accounted(&app, |c| c.received == 410.0).await;
    let limited = dropped(&m, "peer_rate_limited");
    let parsed = metric(&m, "ticketera_ingest_parsed_total");
    assert_eq!(limited + parsed, 400.0, "the flood, all accounted: {m}");
    assert!(limited >= 300.0, "most of the flood is over the rate: {m}");
    // Every message of the quiet sender got through.
    assert_eq!(
        metric_sum(&m, "ticketera_ingest_dead_lettered_total"),
        10.0,
        "{m}"
    );
    let quiet: i64 =
        sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE peer LIKE '127.0.0.1:%'")
            .fetch_one(&pool)
            .await
            .expect("dead letters");
    assert_eq!(quiet, 10);
}

#[tokio::test]
async fn a_tcp_connection_over_the_senders_cap_is_refused() {
    let (db_url, _pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[(
            "TICKETERA_SYSLOG_TCP_MAX_CONNECTIONS_PER_PEER",
            "2".to_string(),
        )],
    );
    let line = traffic();
    let mut held = vec![];
    for _ in 0..2 {
        let mut c = app.connect_tcp_from(OTHER_SENDER).await;
        write_frames(&mut c, std::slice::from_ref(&line), false).await;
        held.push(c);
    }
    // Both served (their lines parsed) before the third knocks.
    eventually(10, "the held connections served", || async {
        (metric(&app.metrics().await, "ticketera_ingest_parsed_total") == 2.0).then_some(())
    })
    .await;
    let mut third = app.connect_tcp_from(OTHER_SENDER).await;
    assert!(
        closed_by_server(&mut third, Duration::from_secs(10)).await,
        "the third connection of one sender is closed"
    );
    let m = app.metrics().await;
    assert_eq!(dropped(&m, "too_many_connections"), 1.0, "{m}");

    // Another sender is not held back by that one's cap.
    app.send_tcp(std::slice::from_ref(&line), false).await;
    // A held connection still works.
    write_frames(&mut held[0], std::slice::from_ref(&line), false).await;
    eventually(
        10,
        "the other sender and the held connection served",
        || async {
            (metric(&app.metrics().await, "ticketera_ingest_parsed_total") == 4.0).then_some(())
        },
    )
    .await;

    // Closing one gives its slot back.
    let mut first = held.remove(0);
    first.shutdown().await.expect("shutdown");
    assert!(closed_by_server(&mut first, Duration::from_secs(10)).await);
    let mut again = eventually(10, "a slot given back", || async {
        let mut c = app.connect_tcp_from(OTHER_SENDER).await;
        (!closed_by_server(&mut c, Duration::from_secs(1)).await).then_some(c)
    })
    .await;
    write_frames(&mut again, std::slice::from_ref(&line), false).await;
    eventually(10, "the new connection served", || async {
        (metric(&app.metrics().await, "ticketera_ingest_parsed_total") == 5.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_queue_is_bounded_in_bytes() {
    let (db_url, _pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[
            // The least it takes: 64 KiB, one of these messages.
            ("TICKETERA_INGEST_QUEUE_MAX_BYTES", "65536".to_string()),
            ("TICKETERA_INGEST_WORKERS", "1".to_string()),
        ],
    );
    let mut big = traffic();
    big.extend_from_slice(b" pad=\"");
    big.extend(std::iter::repeat_n(b'A', 40_000));
    big.push(b'"');
    let lines = vec![big; 200];
    app.send_udp(&lines).await;

    let m = accounted(&app, |c| c.received > 0.0).await;
    let c = counts(&m);
    assert!(dropped(&m, "queue_bytes_full") > 0.0, "{m}");
    assert_eq!(
        c.queue_full, 0.0,
        "the message bound was never reached: {m}"
    );
    assert!(c.parsed > 0.0, "{m}");
    assert!(
        metric(&m, "ticketera_ingest_queue_bytes") <= 65_536.0,
        "{m}"
    );
}

/// Every ticket with its tags and alert count; None when the answer has
/// no tickets (asked again by the caller).
async fn tickets_with_tags(app: &Proc, token: &str) -> Option<Vec<Value>> {
    let body = graphql(
        app,
        token,
        "{ tickets(first: 100) { edges { node { title tags alertCount ruleName } } } }",
    )
    .await;
    Some(
        body["data"]["tickets"]["edges"]
            .as_array()?
            .iter()
            .map(|e| e["node"].clone())
            .collect(),
    )
}

/// Waits for `plain` tickets and one storm ticket holding `in_storm`
/// alerts; returns the storm ticket.
async fn storm_outcome(app: &Proc, token: &str, plain: usize, in_storm: i64) -> Value {
    eventually(30, "the tickets and the storm ticket", || async {
        let all = tickets_with_tags(app, token).await?;
        let (storm, others): (Vec<_>, Vec<_>) = all.into_iter().partition(|t| {
            t["tags"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "storm"))
        });
        (others.len() == plain
            && storm.len() == 1
            && storm[0]["alertCount"].as_i64() == Some(in_storm))
        .then(|| storm[0].clone())
    })
    .await
}

/// Alerts counted on tickets: the one of each `TicketOpened` and the
/// correlated batches.
async fn alerts_on_tickets(pool: &sqlx::PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE event_type = 'TicketOpened'),
                count(*) FILTER (WHERE event_type = 'TicketOpened')
                  + coalesce(sum((payload -> 'AlertsCorrelated' -> 'batch' ->> 'count')::bigint), 0)::bigint
           FROM events",
    )
    .fetch_one(pool)
    .await
    .expect("events")
}

#[tokio::test]
async fn a_storm_of_one_rule_opens_n_tickets_and_one_storm_ticket_for_the_rest() {
    let (db_url, pool) = fresh_database().await;
    let token = token(&pool, Role::Analyst).await;
    let app = spawn(
        "serve",
        &db_url,
        &[
            ("TICKETERA_STORM_TICKETS_PER_RULE", "3".to_string()),
            ("TICKETERA_STORM_INTERVAL_SECS", "86400".to_string()),
            ("TICKETERA_CORRELATION_WINDOW_MS", "200".to_string()),
        ],
    );
    let alerts = alerts_of_one_rule(10);
    app.send_udp(&alerts).await;

    let storm = storm_outcome(&app, &token, 3, 7).await;
    let title = storm["title"].as_str().unwrap_or_default();
    assert!(
        title.starts_with("Alert storm: FortiGate security event"),
        "{storm}"
    );
    assert_eq!(
        (alerts_on_tickets(&pool).await),
        (4, 10),
        "every alert on a ticket"
    );

    let m = accounted(&app, |c| c.received == 10.0).await;
    assert_eq!(metric(&m, "ticketera_ingest_alerts_total"), 10.0, "{m}");
    assert_eq!(
        metric(&m, "ticketera_ingest_storm_alerts_total"),
        7.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "ticketera_ingest_tickets_opened_total"),
        4.0,
        "{m}"
    );
    assert_eq!(metric_sum(&m, "ticketera_ingest_dropped_total"), 0.0, "{m}");

    // More of the storm joins the same storm ticket.
    app.send_udp(&alerts_of_one_rule(12)[10..]).await;
    storm_outcome(&app, &token, 3, 9).await;
}

#[tokio::test]
async fn past_its_most_fingerprints_the_correlator_puts_new_ones_into_the_storm_ticket() {
    let (db_url, pool) = fresh_database().await;
    let token = token(&pool, Role::Analyst).await;
    let app = spawn(
        "serve",
        &db_url,
        &[
            ("TICKETERA_CORRELATION_MAX_FINGERPRINTS", "3".to_string()),
            // Followed fingerprints stay followed for the whole burst.
            ("TICKETERA_CORRELATION_WINDOW_MS", "5000".to_string()),
        ],
    );
    app.send_udp(&alerts_of_one_rule(10)).await;
    storm_outcome(&app, &token, 3, 7).await;
    assert_eq!(
        alerts_on_tickets(&pool).await,
        (4, 10),
        "every alert on a ticket"
    );
    let m = app.metrics().await;
    assert_eq!(
        metric(&m, "ticketera_ingest_storm_alerts_total"),
        7.0,
        "{m}"
    );
    assert_eq!(metric_sum(&m, "ticketera_ingest_dropped_total"), 0.0, "{m}");
}
