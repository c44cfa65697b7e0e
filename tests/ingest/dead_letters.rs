//! Dead letters whose parse error quotes a NUL (or another control
//! character) are stored: Postgres refuses a NUL in `text`, and one such
//! reason used to fail its whole insert batch. The raw bytes stay intact.

use ingest::dead_letters::{Bounds, DeadLetters};
use ingest::parse::{parse_syslog, ParseContext};
use ingest::Transport;
use reqwest::{Method, StatusCode};

use crate::helpers::{fresh_database, problem, spawn_app_with};
use crate::process::*;

/// Lines whose parse error quotes the NUL they carry (FortiGate key,
/// RFC 5424 timestamp, NXLog EventID, Snare event id), plus invalid UTF-8.
fn nul_lines() -> Vec<Vec<u8>> {
    vec![
        b"date=2026-11-27 logid=1 type=utm bad\0key\xff next=1".to_vec(),
        b"<13>1 2026-11-27T10:00\0:00Z host app - - - hello".to_vec(),
        br#"{"EventID": "46\u000025", "Hostname": "h"}"#.to_vec(),
        b"<13>1 2026-11-27T10:00:00Z h app - - - MSWinEventLog\t1\tSecurity\t7\tWed Nov 27\t4\x0025\tx\tu\tN/A\tt\tc\tcat\t\tmsg\t1".to_vec(),
    ]
}

type Row = (String, String, Vec<u8>);

async fn rows(pool: &sqlx::PgPool) -> Vec<Row> {
    sqlx::query_as("SELECT transport, reason, raw FROM dead_letters ORDER BY id")
        .fetch_all(pool)
        .await
        .expect("dead letters")
}

#[tokio::test]
async fn reasons_quoting_a_nul_are_stored_with_their_raw_bytes() {
    let lines = nul_lines();
    // The premise: these reasons do quote a NUL.
    let reasons: Vec<String> = lines
        .iter()
        .map(|l| match parse_syslog(l, &ParseContext::default()) {
            Err(e) => e.to_string(),
            Ok(n) => panic!("{:?} parsed: {n:?}", String::from_utf8_lossy(l)),
        })
        .collect();
    for r in &reasons {
        assert!(r.contains('\0'), "the reason quotes the NUL: {r:?}");
    }

    let (_, pool) = fresh_database().await;
    let dead = DeadLetters::start(
        pool.clone(),
        Bounds {
            max_rows: 100,
            max_bytes: 1 << 20,
        },
    );
    // One batch with a harmless letter among them: all are stored.
    dead.push(Transport::Udp, None, "syslog: empty message".into(), vec![]);
    for (line, reason) in lines.iter().zip(&reasons) {
        dead.push(
            Transport::Tcp,
            Some("127.0.0.1:9".into()),
            reason.clone(),
            line.clone(),
        );
    }
    // The webhook's path stores at once.
    dead.store(
        Transport::Webhook,
        None,
        "fortisiem-xml: root element is <a\0b>",
        b"<a\0b/>",
    )
    .await
    .expect("a reason with a NUL is stored");

    let stored = eventually(20, "every dead letter stored", || async {
        let r = rows(&pool).await;
        (r.len() == lines.len() + 2).then_some(r)
    })
    .await;
    for (_, reason, _) in &stored {
        assert!(!reason.chars().any(char::is_control), "{reason:?}");
        assert!(!reason.is_empty());
    }
    let mut raws: Vec<Vec<u8>> = stored.iter().map(|(_, _, raw)| raw.clone()).collect();
    let mut sent: Vec<Vec<u8>> = lines.clone();
    sent.push(vec![]);
    sent.push(b"<a\0b/>".to_vec());
    raws.sort();
    sent.sort();
    assert_eq!(raws, sent, "raw bytes intact");
    let fortigate = stored
        .iter()
        .find(|(_, _, raw)| raw.starts_with(b"date="))
        .expect("the FortiGate letter");
    assert!(fortigate.1.contains("'badkey") && fortigate.1.contains("is not key=value"));
}

#[tokio::test]
async fn a_running_ingest_keeps_nul_quoting_letters_over_udp_and_tcp() {
    let (db_url, pool) = fresh_database().await;
    let app = spawn("ingest", &db_url, &[]);
    let lines = nul_lines();
    app.send_udp(&lines).await;
    app.send_tcp(&lines, true).await;
    let stored = eventually(30, "every letter stored", || async {
        let r = rows(&pool).await;
        (r.len() == 2 * lines.len()).then_some(r)
    })
    .await;
    for transport in ["udp", "tcp"] {
        let mut raws: Vec<Vec<u8>> = stored
            .iter()
            .filter(|(t, ..)| t == transport)
            .map(|(_, _, raw)| raw.clone())
            .collect();
        let mut sent = lines.clone();
        raws.sort();
        sent.sort();
        assert_eq!(raws, sent, "{transport}: raw bytes intact");
    }
    assert!(stored.iter().all(|(_, r, _)| !r.contains('\0')));
    let m = app.metrics().await;
    assert_eq!(
        metric_sum(&m, "ticketera_ingest_dead_lettered_total"),
        (2 * lines.len()) as f64,
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "ticketera_ingest_dropped_total{reason=\"dead_letter_queue_full\"}"
        ),
        0.0,
        "{m}"
    );
    assert!(!app.log_text().contains("not stored"), "{}", app.log_text());
}

#[tokio::test]
async fn a_webhook_body_quoting_a_nul_is_a_clean_400_and_is_kept() {
    let app = spawn_app_with(|_| {}).await;
    let siem = crate::webhook::integration_token(&app).await;
    // A mismatched end tag: quick-xml's error quotes both names.
    let body = b"<incident incidentId=\"1\"><name>x</na\0me></incident>".to_vec();
    let reason = ingest::parse::fortisiem::parse_xml(&body)
        .expect_err("not an incident")
        .to_string();
    assert!(
        reason.contains('\0'),
        "the reason quotes the NUL: {reason:?}"
    );
    let res = app
        .request(Method::POST, "/api/v1/integrations/webhook", &siem)
        .header("content-type", "application/xml")
        .body(body.clone())
        .send()
        .await
        .expect("webhook");
    let p = problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["code"], "malformed_body");
    let text = p.to_string();
    assert!(!text.contains("\\u0000"), "{text}");
    let stored = eventually(10, "the webhook's dead letter", || async {
        let r = rows(&app.pool).await;
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "webhook");
    assert_eq!(stored[0].2, body, "raw bytes intact");
    assert!(!stored[0].1.contains('\0'), "{:?}", stored[0].1);
}

/// Of each input at most 64 KiB is kept, with its own length; the table is
/// bounded in bytes as well as rows, the oldest going first.
#[tokio::test]
async fn dead_letters_keep_64_kib_each_and_the_table_a_byte_budget() {
    let (_, pool) = fresh_database().await;
    let dead = DeadLetters::start(
        pool.clone(),
        Bounds {
            max_rows: 1000,
            max_bytes: 200 * 1024,
        },
    );
    for i in 0..5u8 {
        dead.push(
            Transport::Tcp,
            None,
            format!("letter {i}"),
            vec![b'a' + i; 100 * 1024],
        );
    }
    type Kept = (String, i32, i64);
    let kept: Vec<Kept> = eventually(
        20,
        "the newest letter stored and the table trimmed",
        || async {
            let r: Vec<Kept> = sqlx::query_as(
                "SELECT reason, octet_length(raw), original_size FROM dead_letters ORDER BY id",
            )
            .fetch_all(&pool)
            .await
            .expect("dead letters");
            (r.last().is_some_and(|l| l.0 == "letter 4") && r.len() <= 3).then_some(r)
        },
    )
    .await;
    let total: i64 = kept.iter().map(|k| i64::from(k.1)).sum();
    assert!(total <= 200 * 1024, "{total} bytes kept");
    for (reason, size, original) in &kept {
        assert_eq!(*size, 64 * 1024, "{reason}");
        assert_eq!(*original, 100 * 1024, "{reason}");
    }
    assert_eq!(
        kept.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        ["letter 2", "letter 3", "letter 4"],
        "the oldest went first"
    );
}
