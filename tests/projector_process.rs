//! The projector as a real process: `ticketera projector`, killed with
//! SIGKILL at the worst moment, a standby taking over from a dead leader,
//! and `ticketera projector rebuild` while GraphQL is being queried.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::command::OpenTicket;
use domain::{Actor, ActorKind, Severity, Source, TicketCommand};
use platform::event_store::{Channel, CommandContext, StoredResponse, TicketStore};
use platform::services::PgTicketServices;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// `ticketera <command>` on ports of its own, GraphQL and tokens.
#[allow(dead_code)]
#[path = "ingest/process.rs"]
mod process;

async fn fresh_database() -> (String, PgPool) {
    test_kit::fresh_database(6).await
}

/// A running `ticketera projector` and what it printed to stderr.
struct Projector {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Projector {
    fn start(database_url: &str, failpoint: Option<&str>) -> Projector {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ticketera"));
        cmd.arg("projector")
            .env("DATABASE_URL", database_url)
            .env("TICKETERA_HTTP_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("TICKETERA_FAILPOINT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(f) = failpoint {
            cmd.env("TICKETERA_FAILPOINT", f);
        }
        let mut child = cmd.spawn().expect("ticketera projector starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("lines").push(line);
            }
        });
        Projector { child, lines }
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .expect("lines")
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until `needle` appeared `times` times on stderr.
    async fn wait_for(&mut self, needle: &str, times: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.count(needle) < times {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the projector exited ({status}) before printing '{needle}':\n{}",
                    self.lines.lock().expect("lines").join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "no '{needle}' (x{times}) within {within:?}:\n{}",
                self.lines.lock().expect("lines").join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown code runs, connections just drop.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Projector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `n` tickets and works each a little: several events per ticket.
async fn write_events(pool: &PgPool, n: usize) {
    let store = TicketStore::new(pool.clone(), Arc::new(PgTicketServices::new(pool.clone())));
    let ctx = CommandContext {
        actor: "jdoe".into(),
        actor_kind: ActorKind::User,
        command_id: Uuid::new_v4(),
        correlation_id: "process-test".into(),
        channel: Channel::Api,
        client_addr: None,
    };
    let run = |id: Uuid, command: domain::Command| {
        let (store, ctx) = (store.clone(), ctx.clone());
        async move {
            store
                .execute(
                    id,
                    TicketCommand {
                        actor: Actor::user("jdoe"),
                        command,
                    },
                    &ctx,
                    None,
                    None,
                    |_| StoredResponse {
                        status: 200,
                        body: Value::Null,
                    },
                )
                .await
                .expect("command");
        }
    };
    for i in 0..n {
        let id = Uuid::now_v7();
        run(
            id,
            domain::Command::Open(OpenTicket {
                ticket_id: id,
                title: format!("Process test ticket {i}"),
                description: "written before, during and after crashes".into(),
                severity: Severity::Medium,
                source: Source::Manual,
                source_ip: None,
                destination_ip: None,
                tags: vec!["crash".into()],
                origin: None,
            }),
        )
        .await;
        run(id, domain::Command::Start).await;
        run(
            id,
            domain::Command::Comment {
                body: format!("comment on {i}"),
            },
        )
        .await;
        if i % 2 == 0 {
            run(
                id,
                domain::Command::Resolve {
                    resolution: Some(domain::Resolution::Benign),
                    summary: "nothing to see".into(),
                },
            )
            .await;
        }
    }
}

async fn applied(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT events_applied FROM rm_tickets.checkpoint), (SELECT events_applied FROM rm_stats.checkpoint)",
    )
    .fetch_one(pool)
    .await
    .expect("checkpoints")
}

async fn wait_projected(pool: &PgPool, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .expect("count");
        let at = applied(pool).await;
        if at == (total, total) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projections at {at:?} of {total} events after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Every read-model row, in key order.
async fn snapshot(pool: &PgPool) -> Value {
    let mut out = serde_json::Map::new();
    for (name, sql) in [
        ("tickets", "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM rm_tickets.tickets t"),
        ("timeline", "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.ticket_id, t.sequence), '[]') FROM rm_tickets.timeline t"),
        ("tickets_checkpoint", "SELECT to_jsonb(c) - 'updated_at' - 'retired' FROM rm_tickets.checkpoint c"),
        ("ticket_state", "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.ticket_id), '[]') FROM rm_stats.ticket_state t"),
        ("open_by_status_severity", "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.status, t.severity), '[]') FROM rm_stats.open_by_status_severity t"),
        ("daily", "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.day), '[]') FROM rm_stats.daily t"),
        ("rules", "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.rule_name), '[]') FROM rm_stats.rules t"),
        ("stats_checkpoint", "SELECT to_jsonb(c) - 'updated_at' - 'retired' FROM rm_stats.checkpoint c"),
    ] {
        let v: Value = sqlx::query_scalar(sql).fetch_one(pool).await.expect(name);
        out.insert(name.into(), v);
    }
    Value::Object(out)
}

#[tokio::test]
async fn killed_between_writing_read_models_and_commit_then_restarted_equals_a_rebuild() {
    let (url, pool) = fresh_database().await;

    // A first run projects a first part of the history.
    write_events(&pool, 5).await;
    let mut first = Projector::start(&url, None);
    wait_projected(&pool, Duration::from_secs(20)).await;
    first.kill();
    let before = applied(&pool).await;
    let rows_before: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_tickets.timeline")
        .fetch_one(&pool)
        .await
        .unwrap();

    // More history; a run that stops inside its batch transaction, after
    // the read-model writes, before COMMIT; SIGKILL there.
    write_events(&pool, 7).await;
    let mut crashing = Projector::start(&url, Some("projector_before_commit"));
    crashing
        .wait_for(
            "failpoint projector_before_commit reached",
            1,
            Duration::from_secs(20),
        )
        .await;
    crashing.kill();
    // Nothing of a killed batch is left: with the failpoint set no batch
    // ever commits, so both checkpoints and the rows stayed where they were.
    assert_eq!(applied(&pool).await, before);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_tickets.timeline")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, rows_before, "no timeline row of the killed batch");

    // Restarted without the failpoint, it goes on (events written while it
    // runs included) and ends exactly where a clean rebuild ends.
    let mut restarted = Projector::start(&url, None);
    write_events(&pool, 3).await;
    wait_projected(&pool, Duration::from_secs(20)).await;
    restarted.kill();
    let incremental = snapshot(&pool).await;
    projector::rebuild(&pool, None).await.expect("rebuild");
    let rebuilt = snapshot(&pool).await;
    for (table, rows) in incremental.as_object().unwrap() {
        assert_eq!(
            rows, &rebuilt[table],
            "table {table} differs from a clean rebuild"
        );
    }
}

#[tokio::test]
async fn a_standby_takes_over_when_the_leader_is_killed() {
    let (url, pool) = fresh_database().await;
    let mut leader = Projector::start(&url, None);
    leader
        .wait_for("leading the projection", 2, Duration::from_secs(20))
        .await;
    let mut standby = Projector::start(&url, None);
    standby
        .wait_for("standing by", 2, Duration::from_secs(20))
        .await;
    assert_eq!(standby.count("leading the projection"), 0);

    write_events(&pool, 3).await;
    wait_projected(&pool, Duration::from_secs(10)).await;
    assert_eq!(standby.count("leading the projection"), 0);

    leader.kill();
    let killed = Instant::now();
    write_events(&pool, 3).await;
    // A liveness bound, not a speed target.
    wait_projected(&pool, Duration::from_secs(10)).await;
    assert!(killed.elapsed() < Duration::from_secs(10));
    assert_eq!(standby.count("leading the projection"), 2);
    standby.kill();
}

/// What a reader sees of the read models: every ticket and the dashboard
/// figures, over GraphQL. `Err` with the body when the query failed.
async fn read_side(api: &process::Proc, token: &str) -> Result<Value, Value> {
    let body = process::graphql(
        api,
        token,
        "{ tickets(first: 100, orderBy: {field: NUMBER, direction: ASC}) { totalCount edges { node {
             id number title description status severity resolution source sourceIp tags
             alertCount commentCount version createdAt updatedAt } } }
           stats { openTickets openByStatusSeverity { status severity count } } }",
    )
    .await;
    data(body)
}

/// The counts alone: a cheap query, asked often.
async fn counts(api: &process::Proc, token: &str) -> Result<Value, Value> {
    let body = process::graphql(
        api,
        token,
        "{ tickets(first: 1) { totalCount } stats { openTickets } }",
    )
    .await;
    data(body)
}

fn data(body: Value) -> Result<Value, Value> {
    match body.get("data") {
        Some(data) if body.get("errors").is_none() && !data.is_null() => Ok(data.clone()),
        _ => Err(body),
    }
}

#[tokio::test]
async fn rebuild_as_a_process_keeps_graphql_answering_and_ends_equal() {
    const TICKETS: usize = 60;
    let (url, pool) = fresh_database().await;
    write_events(&pool, TICKETS).await;
    // The live leader runs throughout, as in production.
    let _leader = Projector::start(&url, None);
    wait_projected(&pool, Duration::from_secs(30)).await;
    // The readers below query back to back, faster than a principal's
    // GraphQL rate allows: this test is about the rebuild, not the limit.
    let api = process::spawn(
        "query-api",
        &url,
        &[("TICKETERA_GRAPHQL_RATE_PER_MINUTE", "0".to_string())],
    );
    let token = process::token(&pool, domain::Role::Auditor).await;

    let rows_before = snapshot(&pool).await;
    let before = read_side(&api, &token)
        .await
        .expect("the read side answers");
    assert_eq!(before["tickets"]["totalCount"], TICKETS);
    assert_eq!(
        before["tickets"]["edges"].as_array().map(Vec::len),
        Some(TICKETS)
    );
    assert_eq!(before["stats"]["openTickets"], TICKETS / 2);

    // Readers query without pause while the rebuilds run: every answer
    // must be the whole read side, never an error nor an empty one.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let api = Arc::new(api);
    let expected_counts = json!({
        "tickets": {"totalCount": TICKETS},
        "stats": {"openTickets": TICKETS / 2},
    });
    let mut readers = vec![];
    for full in [true, false] {
        let (api, token, stop) = (api.clone(), token.clone(), stop.clone());
        let expected = if full {
            before.clone()
        } else {
            expected_counts.clone()
        };
        readers.push(tokio::spawn(async move {
            let (mut answers, mut wrong) = (0usize, vec![]);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let answer = if full {
                    read_side(&api, &token).await
                } else {
                    counts(&api, &token).await
                };
                match answer {
                    Ok(v) if v == expected => {}
                    Ok(v) => wrong.push(v),
                    Err(body) => wrong.push(body),
                }
                answers += 1;
            }
            (answers, wrong)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut reports = vec![];
    for args in [
        &["projector", "rebuild"][..],
        &["projector", "rebuild", "tickets"],
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticketera"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .output()
            .await
            .expect("ticketera projector rebuild runs");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{args:?}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        reports.push(stdout);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = 0;
    for r in readers {
        let (n, wrong) = r.await.expect("reader");
        assert!(
            wrong.is_empty(),
            "{} of {n} answers during the rebuild were not the read side: {:?}",
            wrong.len(),
            wrong.first()
        );
        answers += n;
    }
    assert!(
        answers >= 10,
        "readers were answered throughout ({answers})"
    );
    assert!(
        reports[0].contains("rebuilt tickets") && reports[0].contains("rebuilt stats"),
        "{reports:?}"
    );
    assert!(
        reports[1].contains("rebuilt tickets") && !reports[1].contains("rebuilt stats"),
        "{reports:?}"
    );

    // The same read side after, over GraphQL and row for row.
    assert_eq!(read_side(&api, &token).await.expect("after"), before);
    let rows_after = snapshot(&pool).await;
    for (table, rows) in rows_before.as_object().expect("tables") {
        assert_eq!(rows, &rows_after[table], "table {table} after the rebuilds");
    }
}
