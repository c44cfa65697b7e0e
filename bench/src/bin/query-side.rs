//! Query-side benchmark of Ticketera SOC, against a running `ticketera serve`
//! (run by `bench/query-side.sh`). Prints figures beside their targets; a
//! benchmark, not a test.
//!
//! - `list`: `tickets(first: 50, filter: {status, severity})` over 1,000,000
//!   tickets, p50/p99 over HTTP, beside the equivalent hand-written SQL run
//!   in the same process on the same database (targets: ≤ 2× SQL, p99 ≤ 20 ms).
//! - `delivery`: command → subscription delivery under a steady 500
//!   commands/s, p50/p99 (target p99 ≤ 100 ms).
//! - `idle`: 10,000 idle WebSocket subscriptions (one connection each):
//!   memory the server added (target ≤ 100 MiB), and the time one event
//!   takes to reach all of them (target ≤ 1 s).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use platform::position::Position;
use reqwest::Client;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(
    name = "query-side",
    about = "Query-side benchmark (run by bench/query-side.sh)"
)]
struct Args {
    #[arg(long, env = "BENCH_BASE_URL")]
    base_url: String,
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: String,
    #[arg(long, env = "BENCH_SERVER_PID")]
    server_pid: u32,
    #[arg(long, env = "BENCH_ADMIN_PASSWORD")]
    admin_password: String,
    /// Phases, comma-separated: list, delivery, idle.
    #[arg(long, value_delimiter = ',', default_value = "list,delivery,idle")]
    phases: Vec<String>,
    /// Tickets in the read model for `list`.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: i64,
    /// Timed requests of `list` (each side).
    #[arg(long, default_value_t = 3_000)]
    requests: usize,
    /// Commands per second of `delivery`.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds of `delivery`.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// WebSocket connections of `idle`, one subscription each.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        percentile(&ms, 1.0),
    )
}

/// The machine is shared: every result line says how busy it was.
fn load() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avg: Vec<&str> = avg.split_whitespace().take(3).collect();
    format!("load average {}", avg.join(" "))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = Client::builder().pool_max_idle_per_host(64).build()?;
    wait_ready(&client, &args.base_url).await?;
    let token = login(&client, &args.base_url, &args.admin_password).await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&args.database_url)
        .await
        .context("connecting to the benchmark database")?;
    for phase in &args.phases {
        match phase.as_str() {
            "list" => list(&args, &client, &token, &pool).await?,
            "delivery" => delivery(&args, &client, &token, &pool).await?,
            "idle" => idle(&args, &client, &token).await?,
            other => bail!("unknown phase '{other}' (list, delivery, idle)"),
        }
    }
    Ok(())
}

async fn wait_ready(client: &Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        ensure!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn login(client: &Client, base: &str, password: &str) -> anyhow::Result<String> {
    let res: Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", password),
        ])
        .send()
        .await?
        .json()
        .await?;
    res["access_token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("login failed: {res}"))
}

const STATUSES: [&str; 5] = ["NEW", "IN_PROGRESS", "ON_HOLD", "RESOLVED", "CLOSED"];
const SEVERITIES: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// 1,000,000 rows straight into the read model (the projector is not what
/// this measures), spread over every status and severity.
async fn fill_read_model(pool: &PgPool, tickets: i64) -> anyhow::Result<()> {
    let have: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_tickets.tickets WHERE number LIKE 'QB-%'")
            .fetch_one(pool)
            .await?;
    if have >= tickets {
        return Ok(());
    }
    let t0 = Instant::now();
    let chunk = 50_000i64;
    let mut lo = have + 1;
    while lo <= tickets {
        let hi = (lo + chunk - 1).min(tickets);
        sqlx::query(
            "INSERT INTO rm_tickets.tickets (id, number, number_n, title, description, status, severity,
                 source, source_ip, assignee, assignee_name, tags, observables, comment_count, alert_count,
                 created_at, updated_at, version, last_position_tx, last_position, search_text)
             SELECT md5('qbench-' || n)::uuid, 'QB-' || n, 1000000000 + n,
                    'Synthetic alert ' || n || ' from host-' || (n % 977),
                    'Generated for the query benchmark: outbound connection to a rare domain.',
                    (ARRAY['NEW','IN_PROGRESS','ON_HOLD','RESOLVED','CLOSED'])[1 + ((n * 7919) % 5)],
                    (ARRAY['LOW','MEDIUM','HIGH','CRITICAL'])[1 + ((n / 5) % 4)],
                    'SYSLOG', '10.1.2.3'::inet,
                    CASE WHEN n % 3 = 0 THEN NULL ELSE 'analyst' || (n % 7) END,
                    CASE WHEN n % 3 = 0 THEN NULL ELSE 'Analyst ' || (n % 7) END,
                    ARRAY['bench', 'host-' || (n % 977)], '[]'::jsonb, 0, 1,
                    timestamptz '2026-01-01 00:00:00+00' + n * interval '7 seconds',
                    timestamptz '2026-01-01 00:00:00+00' + n * interval '7 seconds' + interval '1 hour',
                    3, '0', 0, 'synthetic alert ' || n || ' host-' || (n % 977) || ' rare domain'
               FROM generate_series($1::bigint, $2::bigint) AS n",
        )
        .bind(lo)
        .bind(hi)
        .execute(pool)
        .await
        .context("filling the read model")?;
        eprintln!("  … {hi} tickets ({:.0} s)", t0.elapsed().as_secs_f64());
        lo = hi + 1;
    }
    sqlx::query("ANALYZE rm_tickets.tickets")
        .execute(pool)
        .await?;
    println!(
        "read model filled: {tickets} tickets in {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

const LIST_QUERY: &str = "query($status: [Status!], $severity: [Severity!]) {
  tickets(first: 50, filter: {status: $status, severity: $severity}) {
    edges { cursor node { id number title status severity assignee createdAt updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}";

const LIST_SQL: &str =
    "SELECT id, number, title, status, severity, assignee, created_at, updated_at
  FROM rm_tickets.tickets WHERE status = $1 AND severity = $2
 ORDER BY created_at DESC, id DESC LIMIT 51";

type SqlRow = (
    uuid::Uuid,
    String,
    String,
    String,
    String,
    Option<String>,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
);

async fn list(args: &Args, client: &Client, token: &str, pool: &PgPool) -> anyhow::Result<()> {
    println!(
        "== tickets(first: 50, filter: {{status, severity}}) over {} tickets",
        args.tickets
    );
    fill_read_model(pool, args.tickets).await?;
    let combos: Vec<(&str, &str)> = STATUSES
        .iter()
        .flat_map(|s| SEVERITIES.iter().map(move |v| (*s, *v)))
        .collect();
    let url = format!("{}/graphql", args.base_url);
    let gql = |i: usize| {
        let (status, severity) = combos[i % combos.len()];
        client
            .post(&url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(json!({"query": LIST_QUERY, "variables": {"status": [status], "severity": [severity]}}).to_string())
            .send()
    };
    let sql = |i: usize| {
        let (status, severity) = combos[i % combos.len()];
        sqlx::query_as::<_, SqlRow>(LIST_SQL)
            .bind(status)
            .bind(severity)
            .fetch_all(pool)
    };
    // Warm both paths, checking they agree.
    for i in 0..combos.len() * 5 {
        let body: Value = gql(i).await?.json().await?;
        ensure!(body.get("errors").is_none(), "GraphQL failed: {body}");
        let edges = body["data"]["tickets"]["edges"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        let rows = sql(i).await?;
        ensure!(
            edges == 50 && rows.len() == 51,
            "unexpected page sizes {edges} / {}",
            rows.len()
        );
        if i == 0 {
            let first = body["data"]["tickets"]["edges"][0]["node"]["number"].clone();
            ensure!(
                first == rows[0].1.as_str(),
                "GraphQL and SQL disagree: {first} vs {}",
                rows[0].1
            );
        }
    }
    // Interleaved, so both see the same machine state.
    let (mut g, mut s) = (
        Vec::with_capacity(args.requests),
        Vec::with_capacity(args.requests),
    );
    for i in 0..args.requests {
        let t = Instant::now();
        let res = gql(i).await?;
        ensure!(res.status().is_success(), "GraphQL HTTP {}", res.status());
        let _ = res.bytes().await?;
        g.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let rows = sql(i).await?;
        ensure!(rows.len() == 51, "SQL returned {} rows", rows.len());
        s.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (g50, g99, gmax) = summary(g);
    let (s50, s99, smax) = summary(s);
    println!(
        "  GraphQL over HTTP : p50 {g50:.2} ms  p99 {g99:.2} ms  max {gmax:.2} ms  ({} requests)",
        args.requests
    );
    println!("  hand-written SQL  : p50 {s50:.2} ms  p99 {s99:.2} ms  max {smax:.2} ms  (same database, same process)");
    println!(
        "  p99 ratio {:.2}× SQL (target ≤ 2×: {}); p99 {g99:.2} ms (target ≤ 20 ms: {})",
        g99 / s99,
        verdict(g99 <= 2.0 * s99),
        verdict(g99 <= 20.0)
    );
    Ok(())
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(base: &str, token: &str, subscribe: Option<Value>) -> anyhow::Result<WsStream> {
    let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(req, Some(config), false).await?;
    ws.send(Message::Text(
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
            .to_string()
            .into(),
    ))
    .await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.as_str().contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    if let Some(subscribe) = subscribe {
        ws.send(Message::Text(subscribe.to_string().into())).await?;
    }
    Ok(ws)
}

async fn open_ticket(
    client: &Client,
    base: &str,
    token: &str,
    title: &str,
) -> anyhow::Result<String> {
    let res: Value = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({"title": title, "severity": "LOW"}))
        .send()
        .await?
        .json()
        .await?;
    res["id"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("open failed: {res}"))
}

async fn delivery(args: &Args, client: &Client, token: &str, pool: &PgPool) -> anyhow::Result<()> {
    println!(
        "== command → subscription delivery at {} commands/s for {} s",
        args.rate, args.duration
    );
    let tickets = args.rate as usize;
    let mut ids = Vec::with_capacity(tickets);
    for i in 0..tickets {
        ids.push(open_ticket(client, &args.base_url, token, &format!("delivery {i}")).await?);
    }
    let mut ws = ws_connect(
        &args.base_url,
        token,
        Some(json!({"id": "d", "type": "subscribe", "payload": {"query": "subscription { ticketEvents { position type payload } }"}})),
    )
    .await?;
    // Where the time goes: when each projected range was announced
    // (`ticket_projected`, heard here as the server's hub hears it).
    let projected: Arc<Mutex<Vec<(Instant, Position)>>> = Arc::default();
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen("ticket_projected").await?;
    let heard = projected.clone();
    let listening = tokio::spawn(async move {
        while let Ok(n) = listener.recv().await {
            let now = Instant::now();
            let v: Value = serde_json::from_str(n.payload()).unwrap_or(Value::Null);
            if v["projection"] != "tickets" {
                continue;
            }
            if let Some(to) = v["to"].as_str().and_then(|t| t.parse::<Position>().ok()) {
                if let Ok(mut h) = heard.lock() {
                    h.push((now, to));
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;

    let sent: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let failures = Arc::new(AtomicU64::new(0));
    let answered: Arc<Mutex<Vec<f64>>> = Arc::default();
    let answered_at: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
    let total = args.rate * args.duration;
    let reader_sent = sent.clone();
    let reader = tokio::spawn(async move {
        let mut lat = Vec::with_capacity(total as usize);
        // (command, its position, when it arrived)
        let mut arrivals = Vec::with_capacity(total as usize);
        let deadline = Instant::now() + Duration::from_secs(30) + Duration::from_secs(total / 100);
        while (lat.len() as u64) < total && Instant::now() < deadline {
            let msg = match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(_))) => continue,
                _ => break,
            };
            let now = Instant::now();
            let v: Value = serde_json::from_str(msg.as_str()).unwrap_or(Value::Null);
            let body = v["payload"]["data"]["ticketEvents"]["payload"]["body"]
                .as_str()
                .unwrap_or_default();
            if let Some(n) = body
                .strip_prefix("bench-")
                .and_then(|n| n.parse::<u64>().ok())
            {
                if let Some(t) = reader_sent.lock().ok().and_then(|m| m.get(&n).copied()) {
                    lat.push((now - t).as_secs_f64() * 1000.0);
                    let position = v["payload"]["data"]["ticketEvents"]["position"]
                        .as_str()
                        .and_then(|p| p.parse::<Position>().ok());
                    if let Some(p) = position {
                        arrivals.push((n, p, now));
                    }
                }
            }
        }
        (lat, arrivals)
    });
    // Where the time goes: how far the projection trails the event table.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let pool = pool.clone();
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut lags = vec![];
            while sampling.load(Ordering::Relaxed) {
                let row: Result<(Option<i64>, i64), _> = sqlx::query_as(
                    "SELECT (SELECT max(global_position) FROM events), global_position FROM rm_tickets.checkpoint",
                )
                .fetch_one(&pool)
                .await;
                if let Ok((Some(head), cp)) = row {
                    lags.push((head - cp) as f64);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            lags
        })
    };
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / args.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let inflight = Arc::new(tokio::sync::Semaphore::new(256));
    let started = Instant::now();
    for n in 0..total {
        tick.tick().await;
        let permit = inflight.clone().acquire_owned().await?;
        let id = ids[(n as usize) % ids.len()].clone();
        let client = client.clone();
        let url = format!("{}/api/v1/tickets/{id}/comments", args.base_url);
        let token = token.to_string();
        let sent = sent.clone();
        let failures = failures.clone();
        let answered = answered.clone();
        let answered_at = answered_at.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            if let Ok(mut m) = sent.lock() {
                m.insert(n, t);
            }
            let ok = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"body": format!("bench-{n}")}))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if !ok {
                failures.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut a) = answered.lock() {
                a.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            if let Ok(mut a) = answered_at.lock() {
                a.insert(n, Instant::now());
            }
            drop(permit);
        });
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (lat, arrivals) = reader.await?;
    listening.abort();
    sampling.store(false, Ordering::Relaxed);
    let (lag50, lag99, lagmax) = summary(sampler.await?);
    let (c50, c99, _) = summary(answered.lock().map(|a| a.clone()).unwrap_or_default());
    println!("  command answered (HTTP, event committed): p50 {c50:.1} ms  p99 {c99:.1} ms");
    println!("  projection lag behind the event table (sampled every 100 ms): p50 {lag50:.0} events, p99 {lag99:.0}, max {lagmax:.0}");
    let failed = failures.load(Ordering::Relaxed);
    let delivered = lat.len();
    let (p50, p99, max) = summary(lat);
    println!(
        "  sent {total} commands in {elapsed:.1} s ({:.0}/s), {failed} failed; {delivered} delivered",
        total as f64 / elapsed
    );
    println!("  delivery latency: p50 {p50:.1} ms  p99 {p99:.1} ms  max {max:.1} ms (target p99 ≤ 100 ms: {}; {})", verdict(p99 <= 100.0), load());
    breakdown(
        &arrivals,
        &sent.lock().map(|m| m.clone()).unwrap_or_default(),
        &answered_at.lock().map(|m| m.clone()).unwrap_or_default(),
        &projected.lock().map(|p| p.clone()).unwrap_or_default(),
    );
    Ok(())
}

/// Each delivery split in three: the command (sent → answered), the
/// projection (answered → its range announced by `ticket_projected`), the
/// fan-out (announced → arrived over the WebSocket); their p50/p99, and
/// the split of the slowest 1%.
fn breakdown(
    arrivals: &[(u64, Position, Instant)],
    sent: &HashMap<u64, Instant>,
    answered: &HashMap<u64, Instant>,
    projected: &[(Instant, Position)],
) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut rows = vec![];
    for (n, position, arrived) in arrivals {
        let (Some(s), Some(a)) = (sent.get(n), answered.get(n)) else {
            continue;
        };
        // The first announcement whose range reaches the event.
        let Some((p, _)) = projected.iter().find(|(_, to)| to >= position) else {
            continue;
        };
        let command = ms(a.saturating_duration_since(*s));
        let projection = ms(p.saturating_duration_since(*a));
        let fan_out = ms(arrived.saturating_duration_since(*p));
        rows.push((ms(*arrived - *s), command, projection, fan_out));
    }
    if rows.is_empty() {
        println!("  breakdown: no delivery could be matched to its announcement");
        return;
    }
    let part = |f: fn(&(f64, f64, f64, f64)) -> f64| summary(rows.iter().map(f).collect());
    let (c50, c99, _) = part(|r| r.1);
    let (p50, p99, _) = part(|r| r.2);
    let (f50, f99, _) = part(|r| r.3);
    println!(
        "  breakdown ({} deliveries): command p50 {c50:.1} / p99 {c99:.1} ms; answered → projected p50 {p50:.1} / p99 {p99:.1} ms; projected → delivered p50 {f50:.1} / p99 {f99:.1} ms",
        rows.len()
    );
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let worst = &rows[..rows.len().div_ceil(100)];
    let mean =
        |f: fn(&(f64, f64, f64, f64)) -> f64| worst.iter().map(f).sum::<f64>() / worst.len() as f64;
    println!(
        "  the slowest 1% ({}) on average: {:.1} ms = command {:.1} + projection {:.1} + fan-out {:.1}",
        worst.len(),
        mean(|r| r.0),
        mean(|r| r.1),
        mean(|r| r.2),
        mean(|r| r.3)
    );
    println!(
        "  ranges announced: {} ({:.1} events each on average)",
        projected.len(),
        arrivals.len() as f64 / projected.len().max(1) as f64
    );
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

async fn idle(args: &Args, client: &Client, token: &str) -> anyhow::Result<()> {
    println!(
        "== {} idle WebSocket subscriptions (one connection each)",
        args.connections
    );
    let id = open_ticket(client, &args.base_url, token, "fan-out").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib(args.server_pid)?;
    let t0 = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(100));
    let mut connecting = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let permit = sem.clone().acquire_owned().await?;
        let base = args.base_url.clone();
        let token = token.to_string();
        connecting.push(tokio::spawn(async move {
            let ws = ws_connect(&base, &token, None).await;
            drop(permit);
            ws
        }));
    }
    let mut sockets = Vec::with_capacity(args.connections);
    for c in connecting {
        sockets.push(c.await??);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let connected = rss_kib(args.server_pid)?;
    println!(
        "  acknowledged connections alone: +{:.1} MiB ({:.1} KiB each)",
        connected.saturating_sub(before) as f64 / 1024.0,
        connected.saturating_sub(before) as f64 / sockets.len() as f64
    );
    for (i, ws) in sockets.iter_mut().enumerate() {
        let sub = json!({"id": format!("i{i}"), "type": "subscribe", "payload": {
            "query": "subscription { ticketEvents { position type ticketId } }"}});
        ws.send(Message::Text(sub.to_string().into())).await?;
    }
    println!(
        "  {} connections subscribed in {:.1} s",
        sockets.len(),
        t0.elapsed().as_secs_f64()
    );
    // Let every subscription register and the allocator settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_kib(args.server_pid)?;
    println!(
        "  their subscriptions: +{:.1} MiB ({:.1} KiB each)",
        after.saturating_sub(connected) as f64 / 1024.0,
        after.saturating_sub(connected) as f64 / sockets.len() as f64
    );
    let added_mib = (after.saturating_sub(before)) as f64 / 1024.0;
    println!(
        "  server resident memory: {:.1} MiB before, {:.1} MiB with the subscriptions: +{added_mib:.1} MiB, {:.1} KiB each (target ≤ 100 MiB: {}; {})",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / sockets.len() as f64,
        verdict(added_mib <= 100.0),
        load()
    );

    // One event to all of them.
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let mut readers = Vec::with_capacity(sockets.len());
    for mut ws in sockets {
        let arrivals = arrivals.clone();
        readers.push(tokio::spawn(async move {
            if let Ok(Some(Ok(Message::Text(t)))) =
                tokio::time::timeout(Duration::from_secs(30), ws.next()).await
            {
                if t.as_str().contains("\"next\"") {
                    if let Ok(mut a) = arrivals.lock() {
                        a.push(Instant::now());
                    }
                }
            }
            ws
        }));
    }
    let sent = Instant::now();
    let res = client
        .post(format!("{}/api/v1/tickets/{id}/comments", args.base_url))
        .bearer_auth(token)
        .json(&json!({"body": "to everyone"}))
        .send()
        .await?;
    let committed = Instant::now();
    ensure!(
        res.status().is_success(),
        "comment failed: {}",
        res.status()
    );
    let mut kept = Vec::with_capacity(readers.len());
    for r in readers {
        kept.push(r.await?);
    }
    let arrivals = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let last = arrivals.iter().max().copied();
    match last {
        Some(last) => println!(
            "  one event reached {}/{} subscriptions in {:.0} ms after the command was sent ({:.0} ms after it answered; target ≤ 1 s: {})",
            arrivals.len(),
            kept.len(),
            (last - sent).as_secs_f64() * 1000.0,
            (last - committed).as_secs_f64() * 1000.0,
            verdict(arrivals.len() == kept.len() && (last - sent) <= Duration::from_secs(1))
        ),
        None => println!("  the event reached no subscription"),
    }
    drop(kept);
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "  server resident memory 3 s after closing them all: {:.1} MiB (what the allocator kept)",
        rss_kib(args.server_pid)? as f64 / 1024.0
    );
    Ok(())
}
