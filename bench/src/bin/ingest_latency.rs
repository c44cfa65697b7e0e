//! Alert in → ticket visible over GraphQL, at a steady rate.
//!
//!   ingest_latency <http base> <syslog udp addr> <admin password> [rate/s] [seconds]
//!
//! Sends FortiGate IPS alerts over UDP, each from its own source address (so
//! each opens a ticket), and polls GraphQL `tickets` (newest first) every
//! 10 ms; the latency of an alert is from its send to the first poll that
//! shows its ticket. Prints p50, p90, p99 and max. A benchmark, not a test.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

fn alert(i: usize) -> (String, String) {
    let ip = format!("198.18.{}.{}", (i / 250) % 250, i % 250 + 1);
    let line = format!(
        "<185>date=2026-11-27 time=10:02:11 devname=\"FGT-EDGE-01\" devid=\"FG200F0000000001\" logid=\"0419016384\" type=\"utm\" subtype=\"ips\" eventtype=\"signature\" level=\"alert\" vd=\"root\" severity=\"critical\" srcip={ip} dstip=10.20.1.15 srcintf=\"wan1\" dstintf=\"dmz\" sessionid={} action=\"dropped\" proto=6 service=\"HTTPS\" attack=\"Bench.Latency.Probe\" srcport=51544 dstport=443 crlevel=\"critical\"",
        5_000_000 + i
    );
    (ip, line)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        bail!("usage: ingest_latency <http base> <udp addr> <admin password> [rate] [seconds]");
    }
    let base = args[1].trim_end_matches('/').to_string();
    let udp: SocketAddr = args[2].parse().context("udp address")?;
    let password = &args[3];
    let rate: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(100);
    let secs: usize = args.get(5).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let n = rate * secs;
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/api/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", password.as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"]
        .as_str()
        .context("no access token")?
        .to_string();

    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let sent_wall: Arc<Mutex<HashMap<String, chrono::DateTime<chrono::Utc>>>> = Arc::default();
    let sender = {
        let sent = sent.clone();
        let sent_wall = sent_wall.clone();
        tokio::spawn(async move {
            let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let start = Instant::now();
            let every = Duration::from_secs_f64(1.0 / rate as f64);
            for i in 0..n {
                let at = start + every * i as u32;
                tokio::time::sleep_until(at.into()).await;
                let (ip, line) = alert(i);
                if let Ok(mut s) = sent_wall.lock() {
                    s.insert(ip.clone(), chrono::Utc::now());
                }
                if let Ok(mut s) = sent.lock() {
                    s.insert(ip, Instant::now());
                }
                sock.send_to(line.as_bytes(), udp).await?;
            }
            anyhow::Ok(())
        })
    };

    let mut seen: HashMap<String, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(secs as u64 + 30);
    let query = json!({"query": "{ tickets(first: 60) { edges { node { sourceIp } } } }"});
    while seen.len() < n && Instant::now() < deadline {
        let res: Value = http
            .post(format!("{base}/graphql"))
            .bearer_auth(&token)
            .json(&query)
            .send()
            .await?
            .json()
            .await?;
        let now = Instant::now();
        if let Some(edges) = res["data"]["tickets"]["edges"].as_array() {
            for e in edges {
                if let Some(ip) = e["node"]["sourceIp"].as_str() {
                    if ip.starts_with("198.18.") {
                        seen.entry(ip.to_string()).or_insert(now);
                    }
                }
            }
        } else {
            bail!("GraphQL answered {res}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sender.await??;
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let mut lat: Vec<f64> = seen
        .iter()
        .filter_map(|(ip, t)| {
            sent.get(ip)
                .map(|s| t.duration_since(*s).as_secs_f64() * 1000.0)
        })
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    if lat.is_empty() {
        bail!("no ticket became visible");
    }
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "alert in -> ticket visible over GraphQL at {rate} alerts/s for {secs} s: {} of {n} seen; p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (polling every 10 ms)",
        lat.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        lat[lat.len() - 1]
    );
    // Where the time goes: alert in -> TicketOpened committed (ingest), when
    // the database is given (BENCH_TICKETERA_DATABASE_URL).
    if let Ok(url) = std::env::var("BENCH_TICKETERA_DATABASE_URL") {
        let pool = sqlx::PgPool::connect(&url).await?;
        let rows: Vec<(Option<String>, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "SELECT payload -> 'TicketOpened' ->> 'source_ip', recorded_at FROM events WHERE event_type = 'TicketOpened'",
        )
        .fetch_all(&pool)
        .await?;
        let wall = sent_wall.lock().map(|s| s.clone()).unwrap_or_default();
        let mut stored: Vec<f64> = rows
            .iter()
            .filter_map(|(ip, at)| {
                let s = wall.get(ip.as_deref()?)?;
                Some((*at - *s).num_microseconds()? as f64 / 1000.0)
            })
            .collect();
        stored.sort_by(|a, b| a.total_cmp(b));
        if !stored.is_empty() {
            let p = |q: f64| {
                stored[((stored.len() as f64 * q).ceil() as usize).clamp(1, stored.len()) - 1]
            };
            println!(
                "  of which alert in -> TicketOpened stored (ingest: receive, parse, rules, open): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                p(0.5),
                p(0.99),
                stored[stored.len() - 1]
            );
        }
    }
    Ok(())
}
