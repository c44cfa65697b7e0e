//! Faults survived with nothing lost, on real processes: the PostgreSQL
//! postmaster SIGKILLed and restarted under load, and `ticketera serve`
//! SIGKILLed under load. What a client was told was stored (a 201 for a
//! command, a 202 for a webhook) must be in `events` afterwards, and every
//! syslog message must be accounted for.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::Role;
use platform::local_pg::LocalPostgres;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;

use crate::process::{self, counts, eventually, metric, Proc};

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the clients were told was stored, and what they were refused.
#[derive(Default)]
struct Answers {
    /// Ticket ids of 201 answers to opens and of 202 answers to webhooks.
    stored: Mutex<Vec<String>>,
    /// Requests that failed (a refusal, a reset connection, a timeout).
    failed: AtomicUsize,
}

impl Answers {
    fn stored(&self) -> Vec<String> {
        self.stored.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn count(&self) -> usize {
        self.stored.lock().map(|s| s.len()).unwrap_or_default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// Opens tickets over REST, one after the other, until `stop`.
fn open_tickets(
    base: String,
    token: String,
    answers: Arc<Answers>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = client();
        let mut i = 0u64;
        while !stop.load(Ordering::Relaxed) {
            i += 1;
            let res = client
                .post(format!("{base}/api/v1/tickets"))
                .bearer_auth(&token)
                .json(&json!({"title": format!("fault load {i}"), "severity": "LOW"}))
                .send()
                .await;
            match res {
                Ok(r) if r.status() == StatusCode::CREATED => {
                    let body: Value = r.json().await.expect("a 201 has its body");
                    let id = body["id"].as_str().expect("id").to_string();
                    answers.stored.lock().expect("answers").push(id);
                }
                _ => {
                    answers.failed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
}

/// `n` clients opening tickets as `token` on `app` until `stop`.
fn openers(
    n: usize,
    app: &Proc,
    token: &str,
    answers: &Arc<Answers>,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|_| {
            open_tickets(
                app.http.clone(),
                token.to_string(),
                answers.clone(),
                stop.clone(),
            )
        })
        .collect()
}

/// Raises FortiSIEM incidents (each its own incident id, so each opens its
/// own ticket) through the signed webhook until `stop`.
fn raise_incidents(
    base: String,
    token: String,
    first_incident: u64,
    answers: Arc<Answers>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = client();
        let key = ingest::webhook::secret_key(WEBHOOK_SECRET);
        let mut incident: Value =
            serde_json::from_slice(&process::sample("fortisiem-incident.json")).expect("sample");
        let mut n = first_incident;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            incident["incidentId"] = json!(n);
            let body = serde_json::to_vec(&incident).expect("body");
            let id = format!("msg_fault_{n}");
            let ts = chrono::Utc::now().timestamp();
            let res = client
                .post(format!("{base}/api/v1/integrations/webhook"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", ts.to_string())
                .header(
                    "webhook-signature",
                    ingest::webhook::sign(&key, &id, ts, &body),
                )
                .body(body)
                .send()
                .await;
            match res {
                Ok(r) if r.status() == StatusCode::ACCEPTED => {
                    let body: Value = r.json().await.expect("a 202 has its body");
                    let id = body["ticket_id"]
                        .as_str()
                        .unwrap_or_else(|| panic!("a 202 names its ticket: {body}"))
                        .to_string();
                    answers.stored.lock().expect("answers").push(id);
                }
                _ => {
                    answers.failed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
}

/// Floods the TCP syslog listener with the FortiGate sample (alerts and
/// traffic lines) until `stop`; answers how many lines were written.
fn flood_syslog(app: &Proc, stop: Arc<AtomicBool>) -> JoinHandle<u64> {
    let addr = app.tcp.expect("tcp listener");
    tokio::spawn(async move {
        let lines: Vec<Vec<u8>> = process::sample_lines("fortigate.log")
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("tcp connect");
        let mut sent = 0u64;
        while !stop.load(Ordering::Relaxed) {
            // About 8,000 lines a second: far below the per-peer rate, so
            // every line reaches the queue and the store.
            for _ in 0..10 {
                process::write_frames(&mut stream, &lines, false).await;
                sent += lines.len() as u64;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stream.shutdown().await.expect("shutdown");
        sent
    })
}

/// The ids of every ticket that has a `TicketOpened` event.
async fn opened_in_events(pool: &PgPool) -> HashSet<String> {
    sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE aggregate_type = 'Ticket' AND event_type = 'TicketOpened'",
    )
    .fetch_all(pool)
    .await
    .expect("events")
    .into_iter()
    .collect()
}

async fn assert_all_in_events(pool: &PgPool, stored: &[String]) {
    let in_events = opened_in_events(pool).await;
    let missing: Vec<&String> = stored
        .iter()
        .filter(|id| !in_events.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged tickets are not in events: {missing:?}",
        missing.len(),
        stored.len()
    );
}

/// Waits until the read side shows every one of `stored`: the projector
/// followed the events through the fault.
async fn assert_all_projected(pool: &PgPool, stored: &[String]) {
    eventually(60, "every acknowledged ticket on the read side", || async {
        let projected: Vec<String> = sqlx::query_scalar("SELECT id::text FROM rm_tickets.tickets")
            .fetch_all(pool)
            .await
            .ok()?;
        let projected: HashSet<String> = projected.into_iter().collect();
        stored.iter().all(|id| projected.contains(id)).then_some(())
    })
    .await;
}

async fn ready(app: &Proc) -> Option<StatusCode> {
    reqwest::Client::new()
        .get(app.url("/readyz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()
        .map(|r| r.status())
}

/// Waits until `answers` has more than `than` stored answers.
async fn stores_again(answers: &Answers, than: usize, what: &str) {
    eventually(60, what, || async {
        (answers.count() > than).then_some(())
    })
    .await;
}

/// The postmaster's pid: the first line of `postmaster.pid`.
fn postmaster_pid(pgdata: &Path) -> String {
    std::fs::read_to_string(pgdata.join("postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .expect("pid line")
        .trim()
        .to_string()
}

fn sigkill(pid: &str) {
    let status = std::process::Command::new("kill")
        .args(["-KILL", pid])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -KILL {pid}");
}

/// Starts the private cluster in `dir` again after a crash: the killed
/// postmaster's backends take a moment to notice and exit, and until they
/// have, the old shared memory is still in use and the start is refused.
async fn restart_cluster(dir: &Path) -> LocalPostgres {
    let mut last = None;
    for _ in 0..60 {
        match LocalPostgres::start(dir).await {
            Ok(pg) => return pg,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the private cluster did not start again: {last:?}");
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_under_load_recovers_without_a_restart_and_loses_nothing() {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "ticketera-fault-pg-{}",
        uuid::Uuid::new_v4().simple()
    )));
    let pg = LocalPostgres::start(&dir.0)
        .await
        .expect("a private cluster of our own: this test kills it");
    let url = pg.database_url();
    let mut app = process::spawn(
        "serve",
        &url,
        &[("TICKETERA_WEBHOOK_SECRET", WEBHOOK_SECRET.into())],
    );
    let pool = PgPool::connect(&url).await.expect("pool");
    let analyst = process::token(&pool, Role::Analyst).await;

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Answers::default());
    let openers = openers(4, &app, &analyst, &answers, &stop);
    let flood = flood_syslog(&app, stop.clone());
    stores_again(&answers, 20, "opens before the fault").await;

    // The fault: the postmaster and, by its death, every backend.
    sigkill(&postmaster_pid(pg.pgdata()));
    pg.release();
    eventually(15, "/readyz says not ready", || async {
        (ready(&app).await == Some(StatusCode::SERVICE_UNAVAILABLE)).then_some(())
    })
    .await;
    let before_restart = answers.count();
    // Down for longer than a store call waits for a connection (5 s): the
    // opens are refused meanwhile, and the alerts wait the outage out.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(app.alive(), "serve survives losing its database");

    let pg = restart_cluster(&dir.0).await;
    assert_eq!(
        pg.database_url(),
        url,
        "the same cluster, port and password"
    );
    eventually(60, "/readyz says ready again", || async {
        (ready(&app).await == Some(StatusCode::OK)).then_some(())
    })
    .await;
    stores_again(&answers, before_restart + 20, "opens after the restart").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for o in openers {
        o.await.expect("opener");
    }
    let sent = flood.await.expect("flood");
    assert!(app.alive(), "the same serve process throughout");

    let stored = answers.stored();
    assert_all_in_events(&pool, &stored).await;
    assert_all_projected(&pool, &stored).await;

    // Every syslog line: parsed, dead-lettered or dropped with a reason; and
    // every alert among them stored on a ticket or counted as lost.
    let m = process::accounted(&app, |c| c.received >= sent as f64).await;
    let c = counts(&m);
    assert_eq!(c.received, sent as f64, "TCP loses no line: {m}");
    let alerts = metric(&m, "ticketera_ingest_alerts_total");
    assert!(alerts > 0.0, "the flood carried alerts");
    let lost = metric(&m, "ticketera_ingest_dropped_total{reason=\"store_error\"}");
    assert_eq!(
        lost, 0.0,
        "no alert given up while the database restarted: {m}"
    );
    let on_tickets = eventually(60, "every alert on a ticket", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(alert_count), 0)::bigint FROM rm_tickets.tickets",
        )
        .fetch_one(&pool)
        .await
        .ok()?;
        let m = app.metrics().await;
        let alerts = metric(&m, "ticketera_ingest_alerts_total");
        (n as f64 == alerts).then_some(n)
    })
    .await;
    eprintln!(
        "postgres fault: {} opens acknowledged and in events, {} refused; {sent} syslog lines, {on_tickets} alerts on tickets",
        stored.len(),
        answers.failed.load(Ordering::Relaxed)
    );
    drop(app);
    pool.close().await;
    pg.stop().await.expect("stop the private cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_killed_under_load_keeps_every_acknowledged_command_and_webhook() {
    let (url, pool) = test_kit::fresh_database(5).await;
    let env = [("TICKETERA_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string())];
    let mut app = process::spawn("serve", &url, &env);
    let analyst = process::token(&pool, Role::Analyst).await;
    let siem = process::token(&pool, Role::Integration).await;

    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Answers::default());
    let mut load = openers(4, &app, &analyst, &answers, &stop);
    load.extend((0..2u64).map(|k| {
        raise_incidents(
            app.http.clone(),
            siem.clone(),
            1_000_000 * (k + 1),
            answers.clone(),
            stop.clone(),
        )
    }));
    stores_again(&answers, 100, "load before the kill").await;

    // SIGKILL mid-load: requests in flight get no answer, which is fine;
    // what was answered must be stored.
    app.child.kill().expect("SIGKILL serve");
    app.child.wait().expect("reaped");
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.expect("load task");
    }
    let stored = answers.stored();

    let app = process::spawn("serve", &url, &env);
    assert_all_in_events(&pool, &stored).await;
    // And the restarted projector catches up with all of them.
    assert_all_projected(&pool, &stored).await;
    eprintln!(
        "serve fault: {} acknowledged (201 opens and 202 webhooks), all in events; {} failed",
        stored.len(),
        answers.failed.load(Ordering::Relaxed)
    );
    drop(app);
}
