//! The listeners at their limits: the largest UDP datagram arrives whole;
//! a flood through a queue of one message drops messages, each counted, so
//! that `/metrics` still accounts for every message received; an idle TCP
//! connection is closed and gives its slot back.

use std::time::Duration;

use domain::Role;

use crate::helpers::fresh_database;
use crate::process::*;

/// The largest UDP payload over IPv4, and what the listener must take.
const UDP_MAX: usize = 65_507;

/// `head`, then `pad` filling, then `tail`: exactly `len` bytes.
fn padded(head: &str, pad_key: &str, tail: &str, len: usize) -> Vec<u8> {
    let fixed = head.len() + pad_key.len() + tail.len();
    assert!(fixed < len);
    let line = format!("{head}{pad_key}{}{tail}", "A".repeat(len - fixed));
    assert_eq!(line.len(), len);
    line.into_bytes()
}

#[tokio::test]
async fn a_65507_byte_datagram_arrives_whole() {
    let (db_url, pool) = fresh_database().await;
    let app = spawn("serve", &db_url, &[]);
    let token = token(&pool, Role::Analyst).await;

    // A FortiGate alert whose addresses come after 65 kB of padding: its
    // ticket has them only if the whole datagram arrived.
    let alert = padded(
        "<185>date=2026-11-27 time=10:00:00 devname=\"FGT-EDGE-01\" logid=\"0419016384\" \
         type=\"utm\" subtype=\"ips\" level=\"alert\" severity=\"critical\" \
         attack=\"Padded.Datagram.Probe\" ",
        "pad=\"",
        "\" srcip=203.0.113.77 dstip=10.20.1.99 dstport=443",
        UDP_MAX,
    );
    // Not parseable (an RFC 5424 header with a bad timestamp): its dead
    // letter keeps the raw bytes, all of them.
    let broken = padded("<13>1 not-a-time host app - - - ", "", "END", UDP_MAX);
    app.send_udp(&[alert, broken.clone()]).await;

    let ticket = eventually(30, "the padded alert's ticket", || async {
        tickets(&app, &token)
            .await
            .into_iter()
            .find(|t| t["ruleName"] == "Padded.Datagram.Probe")
    })
    .await;
    assert_eq!(ticket["sourceIp"], "203.0.113.77", "{ticket}");
    assert_eq!(ticket["destinationIp"], "10.20.1.99", "{ticket}");
    assert_eq!(ticket["severity"], "CRITICAL", "{ticket}");

    let raw: Vec<u8> = eventually(20, "the padded dead letter", || async {
        sqlx::query_scalar("SELECT raw FROM dead_letters WHERE transport = 'udp'")
            .fetch_optional(&pool)
            .await
            .expect("dead letters")
    })
    .await;
    assert_eq!(raw.len(), UDP_MAX);
    assert_eq!(raw, broken, "the raw bytes, all of them");

    let m = app.metrics().await;
    assert_eq!(
        metric(&m, "ticketera_ingest_received_total{transport=\"udp\"}"),
        2.0,
        "{m}"
    );
    assert_eq!(metric(&m, "ticketera_ingest_parsed_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "ticketera_ingest_alerts_total"), 1.0, "{m}");
    assert_eq!(
        metric(
            &m,
            "ticketera_ingest_dead_lettered_total{transport=\"udp\"}"
        ),
        1.0,
        "{m}"
    );
    assert_eq!(metric_sum(&m, "ticketera_ingest_dropped_total"), 0.0, "{m}");
}

#[tokio::test]
async fn a_flood_through_a_queue_of_one_drops_and_counts_every_message() {
    let (db_url, _pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[
            ("TICKETERA_INGEST_QUEUE_SIZE", "1".to_string()),
            ("TICKETERA_INGEST_WORKERS", "1".to_string()),
            ("TICKETERA_SYSLOG_MAX_FRAME_BYTES", "4096".to_string()),
        ],
    );
    // Traffic logs (parsed, not alerts: no ticket work), malformed lines
    // (dead letters) and oversized frames, over UDP and then TCP.
    let traffic = sample_lines("fortigate.log").remove(3);
    let malformed = b"<999>not a valid PRI".to_vec();
    let oversized = vec![b'x'; 5_000];
    let mut lines = Vec::new();
    for i in 0..3_000 {
        lines.push(match i % 100 {
            0 => oversized.clone(),
            1..=10 => malformed.clone(),
            _ => traffic.clone(),
        });
    }
    app.send_udp(&lines).await;
    // One connection, LF framing: every read of it is one batch of many
    // messages, and a queue of one takes one of them.
    app.send_tcp(&lines, false).await;

    let m = accounted(&app, |c| c.received_tcp == lines.len() as f64).await;
    let c = counts(&m);
    assert!(c.queue_full > 0.0, "the flood overflowed the queue: {m}");
    assert_eq!(c.too_large, 30.0, "every oversized TCP frame: {m}");
    assert!(c.parsed > 0.0, "{m}");
    assert_eq!(
        c.received,
        c.parsed + c.dead_lettered + c.dropped,
        "received = parsed + dead_lettered + dropped before parsing: {m}"
    );
    assert_eq!(
        metric(&m, "ticketera_ingest_dropped_total{reason=\"shutdown\"}"),
        0.0
    );
}

/// Reads until the server closes the connection; how long that took.
async fn closed_by_server(stream: &mut tokio::net::TcpStream, within: Duration) -> Duration {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut buf = [0u8; 64];
    match tokio::time::timeout(within, stream.read(&mut buf)).await {
        Err(_) => panic!("the server did not close an idle connection within {within:?}"),
        Ok(Ok(0)) | Ok(Err(_)) => started.elapsed(),
        Ok(Ok(_)) => panic!("the syslog listener never writes"),
    }
}

#[tokio::test]
async fn an_idle_tcp_connection_is_closed_and_the_listener_keeps_serving() {
    let (db_url, _pool) = fresh_database().await;
    let app = spawn(
        "ingest",
        &db_url,
        &[("TICKETERA_SYSLOG_TCP_IDLE_TIMEOUT_SECS", "1".to_string())],
    );
    let addr = app.tcp.expect("tcp");

    // Connects, sends nothing: closed after the idle timeout.
    let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let took = closed_by_server(&mut silent, Duration::from_secs(15)).await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    // Sends a line without its LF, then nothing: closed the same way, and
    // the unterminated line still counts, as at an end of stream.
    let traffic = sample_lines("fortigate.log").remove(3);
    let mut partial = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut partial, &traffic)
        .await
        .expect("write");
    closed_by_server(&mut partial, Duration::from_secs(15)).await;
    eventually(10, "the unterminated line parsed", || async {
        let m = app.metrics().await;
        (metric(&m, "ticketera_ingest_received_total{transport=\"tcp\"}") == 1.0
            && metric(&m, "ticketera_ingest_parsed_total") == 1.0)
            .then_some(())
    })
    .await;

    // Still serving.
    app.send_tcp(&[traffic.clone(), traffic], true).await;
    eventually(10, "later connections served", || async {
        let m = app.metrics().await;
        (metric(&m, "ticketera_ingest_parsed_total") == 3.0).then_some(())
    })
    .await;
    assert!(
        app.log_text().contains("syslog connection idle; closed"),
        "{}",
        app.log_text()
    );
}
