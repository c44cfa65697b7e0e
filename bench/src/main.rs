//! Command-side benchmark of Ticketera SOC, against a running `ticketera serve`.
//!
//! Measures, in one run, the targets of the command side:
//!
//! 1. tickets opened per second over HTTP at concurrency 16, next to `pgbench`
//!    inserting one row of the same shape per transaction into a scratch copy
//!    of the `events` table on the same Postgres, for the same duration;
//! 2. the latency of a comment command on a ticket of 10 events and on one of
//!    10,000 events (p50, p99, ratio of the p50s);
//! 3. the resident memory of the server process, idle and at peak under (1).
//!
//! `bench/command-side.sh` builds everything, starts the server on a fresh
//! database and runs this binary; see there.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use chrono::{SecondsFormat, Utc};
use clap::Parser;
use domain::TicketEvent;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

/// Target: tickets opened over HTTP per second, relative to pgbench's rate.
const TARGET_THROUGHPUT_RATIO: f64 = 0.5;
/// Target: p50 on a 10,000-event ticket relative to the p50 on a 10-event one.
const TARGET_LATENCY_RATIO: f64 = 1.5;
/// Targets: resident memory of the server, in MiB.
const TARGET_IDLE_MIB: f64 = 60.0;
const TARGET_LOADED_MIB: f64 = 200.0;
/// Events of the short ticket.
const SHORT_EVENTS: u64 = 10;

#[derive(Debug, Parser)]
#[command(
    name = "ticketera-bench",
    about = "Command-side benchmark of Ticketera SOC (run by bench/command-side.sh)"
)]
struct Args {
    /// Base URL of the running server, e.g. http://127.0.0.1:8080
    #[arg(long, env = "BENCH_BASE_URL")]
    base_url: String,
    /// The server's database (the scratch table for pgbench goes there too).
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: String,
    /// Process id of the server, for its resident memory.
    #[arg(long, env = "BENCH_SERVER_PID")]
    server_pid: u32,
    /// Password of the server's `admin` user.
    #[arg(long, env = "BENCH_ADMIN_PASSWORD")]
    admin_password: String,
    /// Seconds of each throughput run (HTTP and pgbench alike).
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Concurrent clients of each throughput run (HTTP and pgbench alike).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds of HTTP warm-up before the measured run (not counted).
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Sequential comment commands timed on each ticket.
    #[arg(long, default_value_t = 300)]
    commands: usize,
    /// Untimed comment commands on each ticket first.
    #[arg(long, default_value_t = 10)]
    warmup_commands: usize,
    /// Events of the long ticket.
    #[arg(long, default_value_t = 10_000)]
    long_events: u64,
    /// The pgbench executable.
    #[arg(long, default_value = "pgbench")]
    pgbench: String,
    /// pgbench worker threads (-j).
    #[arg(long, default_value_t = 2)]
    pgbench_threads: usize,
    /// Seconds of each reference measurement (GET /healthz, GET /api/v1/auth/me); 0 skips them.
    #[arg(long, default_value_t = 5)]
    reference_secs: u64,
    /// Throughput rounds, each an HTTP run then a pgbench run; figures are their means.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Phases to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "open,pgbench,latency,reference"
    )]
    phases: Vec<Phase>,
    /// Seconds to wait for GET /readyz.
    #[arg(long, default_value_t = 60)]
    ready_timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// (1) opening tickets over HTTP, with (3) memory under that load.
    Open,
    /// (1) pgbench's single-row insert, the baseline of `open`.
    Pgbench,
    /// (2) comment latency on a short and on a long ticket.
    Latency,
    /// Reference figures (not targets) that locate where a command's time goes.
    Reference,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let client = Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;
    let base = args.base_url.trim_end_matches('/').to_string();
    let has = |p: Phase| args.phases.contains(&p);
    let db_name = database_name(&args.database_url);
    let c = args.concurrency;

    println!("== Ticketera SOC command-side benchmark");
    println!(
        "machine: {cores} cores, shared by the load generator (this process), the server (pid {}) \
         and Postgres: every figure below includes that contention",
        args.server_pid
    );

    wait_ready(
        &client,
        &base,
        args.server_pid,
        Duration::from_secs(args.ready_timeout),
    )
    .await?;

    // (3a) Idle memory: after start, before any load. And how busy the
    // machine is without us: other processes skew every figure.
    let cpu_idle = Cpu::snapshot(args.server_pid);
    let mut idle_kib = 0;
    for _ in 0..10 {
        idle_kib = idle_kib.max(rss_kib(args.server_pid)?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let background = Cpu::snapshot(args.server_pid).since(&cpu_idle);
    println!(
        "server resident memory idle: {:.1} MiB (VmRSS, max of 10 samples over 1 s)",
        mib(idle_kib)
    );
    println!(
        "machine busy before any load: {:.0}% of {cores} cores, load average {} (other processes; \
         when high, figures are lower and noisier than on a quiet machine)",
        background.busy_percent(),
        load_average()
    );

    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await
        .context("connecting to the benchmark database")?;
    let token = get_token(&client, &base, &args.admin_password).await?;
    let mut summary: Vec<String> = Vec::new();

    // (1) Throughput, alternating HTTP and pgbench runs of the same duration;
    // (3b) the memory sampler runs throughout.
    let mut http_rounds: Vec<LoadResult> = Vec::new();
    let mut pg_rounds: Vec<PgbenchResult> = Vec::new();
    let mut cpu_lines: Vec<String> = Vec::new();
    // CPU of the work itself (server or pgbench, client, our Postgres backends), ticks.
    let (mut http_work, mut pg_work) = (0u64, 0u64);
    let mut pgbench_setup = None;
    // Reference lines on pgbench run right after the opens, as this benchmark once did.
    let mut stale_order: Vec<String> = Vec::new();
    if has(Phase::Open) || has(Phase::Pgbench) {
        println!("\n-- (1) throughput: opening tickets over HTTP vs. pgbench single-row insert");
        let sampler = RssSampler::start(args.server_pid, Duration::from_millis(100));
        let open = {
            let base = base.clone();
            let token = token.clone();
            move |client: &Client, n: u64| {
                client
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(open_body(n))
            }
        };
        if has(Phase::Open) && args.warmup_secs > 0 {
            println!(
                "warming up: {} s of opens at c={c} (not counted)",
                args.warmup_secs
            );
            let warm = load(
                &client,
                c,
                Duration::from_secs(args.warmup_secs),
                StatusCode::CREATED,
                open.clone(),
            )
            .await?;
            ensure!(
                warm.ok > 0,
                "no ticket could be opened during the warm-up ({} errors: {})",
                warm.errors,
                warm.first_error
            );
        }
        if has(Phase::Pgbench) {
            // pgbench copies the shape of a TicketOpened row the server wrote.
            open_ticket(&client, &base, &token, 0).await?;
            let setup = PgbenchSetup::create(&pool).await?;
            println!("{}", setup.describe());
            pgbench_setup = Some(setup);
        }
        for round in 1..=args.rounds {
            let tag = if args.rounds > 1 {
                format!(" [round {round}/{}]", args.rounds)
            } else {
                String::new()
            };
            if let Some(setup) = &pgbench_setup {
                // pgbench's Postgres must not be busy with the projector's
                // backlog of the opens before: that would flatter the ratio.
                let waited = wait_projected(&pool, Duration::from_secs(120)).await?;
                checkpoint(&pool).await?;
                println!(
                    "projector caught up with every event ({waited:.1} s waited); load average {}",
                    load_average()
                );
                println!(
                    "measuring{tag}: {} -n -c{c} -j{} -T{} -f <script> (one INSERT per transaction)",
                    args.pgbench, args.pgbench_threads, args.duration
                );
                let window = CpuWindow::start(args.server_pid, &db_name);
                let r = run_pgbench(&args, &setup.script, args.duration).await;
                let cpu = window.finish();
                let r = r?;
                println!(
                    "pgbench: {} transactions, {} failed = {:.1}/s, average latency {:.2} ms",
                    r.transactions, r.failed, r.tps, r.latency_ms
                );
                pg_work += cpu.server + cpu.own + cpu.children + cpu.pg_ours + cpu.pg_aux;
                let line = cpu.per_op("pgbench insert", r.transactions, "pgbench", cores);
                println!("{line}");
                cpu_lines.push(line);
                pg_rounds.push(r);
            }
            if has(Phase::Open) {
                checkpoint(&pool).await?;
                println!(
                    "measuring{tag}: {} s of opens over HTTP at c={c} (keep-alive, bearer token; \
                     the projector runs beside, as deployed); load average {}",
                    args.duration,
                    load_average()
                );
                let window = CpuWindow::start(args.server_pid, &db_name);
                let r = load(
                    &client,
                    c,
                    Duration::from_secs(args.duration),
                    StatusCode::CREATED,
                    open.clone(),
                )
                .await?;
                let cpu = window.finish();
                r.report("open tickets over HTTP");
                println!("{}", liveness_answers(&client, &base).await);
                http_work += cpu.server + cpu.own + cpu.children + cpu.pg_ours + cpu.pg_aux;
                let line = cpu.per_op("opened ticket", r.ok, "load generator", cores);
                println!("{line}");
                cpu_lines.push(line);
                http_rounds.push(r);
                if round == args.rounds {
                    if let Some(setup) = &pgbench_setup {
                        if has(Phase::Reference) && args.reference_secs > 0 {
                            stale_order.push(pgbench_beside_backlog(&pool, &args, setup).await?);
                        }
                    }
                }
            }
        }
        if let Some(setup) = &pgbench_setup {
            setup.check(&pool).await?;
        }
        let (peak_kib, samples) = sampler.stop();
        let hwm_kib = status_kib(args.server_pid, "VmHWM:")?;

        let d = args.duration;
        let http_ok: u64 = http_rounds.iter().map(|r| r.ok).sum();
        let http_errors: u64 = http_rounds.iter().map(|r| r.errors).sum();
        let http_secs: f64 = http_rounds.iter().map(|r| r.elapsed.as_secs_f64()).sum();
        let http_rate = http_ok as f64 / http_secs.max(f64::MIN_POSITIVE);
        let pg_rate = pg_rounds.iter().map(|r| r.tps).sum::<f64>() / pg_rounds.len().max(1) as f64;
        let rounds = if args.rounds > 1 {
            format!(", mean of {} rounds", args.rounds)
        } else {
            String::new()
        };
        if has(Phase::Open) {
            summary.push(format!(
                "open tickets over HTTP (c={c}, {d} s{rounds}): {http_rate:.1}/s  ({http_errors} errors)"
            ));
        }
        if has(Phase::Pgbench) {
            summary.push(format!(
                "pgbench single-row insert (c={c}, {d} s{rounds}): {pg_rate:.1}/s"
            ));
        }
        if has(Phase::Open) && has(Phase::Pgbench) {
            let ratio = http_rate / pg_rate;
            let per_round: Vec<String> = http_rounds
                .iter()
                .zip(&pg_rounds)
                .map(|(h, p)| format!("{:.2}", h.rate() / p.tps))
                .collect();
            let pg_ops: u64 = pg_rounds.iter().map(|r| r.transactions).sum();
            let http_us = http_work as f64 * 1e4 / http_ok.max(1) as f64;
            let pg_us = pg_work as f64 * 1e4 / pg_ops.max(1) as f64;
            cpu_lines.push(format!(
                "CPU cost per operation, client and our Postgres backends included: open over HTTP {http_us:.0} µs, \
                 pgbench insert {pg_us:.0} µs; their inverse ratio {:.2} is what the throughput ratio \
                 tends to when both are CPU-bound, whatever else runs on the machine",
                pg_us / http_us
            ));
            summary.push(format!(
                "ratio: {ratio:.2} (target >= {TARGET_THROUGHPUT_RATIO}) {}{}",
                verdict(ratio >= TARGET_THROUGHPUT_RATIO),
                if per_round.len() > 1 {
                    format!("  (per round: {})", per_round.join(", "))
                } else {
                    String::new()
                }
            ));
        }
        if has(Phase::Open) {
            summary.push(format!(
                "server memory idle: {:.1} MiB (target <= {TARGET_IDLE_MIB} MiB) {}",
                mib(idle_kib),
                verdict(mib(idle_kib) <= TARGET_IDLE_MIB)
            ));
            summary.push(format!(
                "server memory peak under (1): {:.1} MiB sampled every 100 ms ({samples} samples), \
                 VmHWM {:.1} MiB (target <= {TARGET_LOADED_MIB} MiB) {}",
                mib(peak_kib),
                mib(hwm_kib),
                verdict(mib(peak_kib.max(hwm_kib)) <= TARGET_LOADED_MIB)
            ));
        }
    }

    // (2) Command latency on a short and on a long ticket.
    if has(Phase::Latency) {
        println!(
            "\n-- (2) latency: comment command on a {SHORT_EVENTS}-event ticket vs. a {}-event ticket",
            args.long_events
        );
        let lat = latency(&client, &base, &token, &pool, &args).await?;
        let lat_ratio = lat.long.p(0.50) / lat.short.p(0.50);
        summary.push(format!(
            "comment latency, {SHORT_EVENTS}-event ticket ({} commands): p50 {:.2} ms, p99 {:.2} ms",
            lat.short.n(),
            lat.short.p(0.50),
            lat.short.p(0.99)
        ));
        summary.push(format!(
            "comment latency, {}-event ticket ({} commands): p50 {:.2} ms, p99 {:.2} ms",
            args.long_events,
            lat.long.n(),
            lat.long.p(0.50),
            lat.long.p(0.99)
        ));
        summary.push(format!(
            "latency ratio (p50 long / p50 short): {lat_ratio:.2}x (target <= {TARGET_LATENCY_RATIO}x) {}",
            verdict(lat_ratio <= TARGET_LATENCY_RATIO)
        ));
        summary.push(format!(
            "server CPU per comment: {SHORT_EVENTS}-event ticket {:.0} µs, {}-event ticket {:.0} µs",
            lat.short_cpu_us, args.long_events, lat.long_cpu_us
        ));
        summary.push(format!(
            "first command on the long ticket (loads and folds the {} events written by SQL): {:.1} ms",
            args.long_events - 1,
            lat.long_first_ms
        ));
    }

    // Reference figures that locate the cost of a command (not targets).
    let mut reference: Vec<String> = Vec::new();
    if has(Phase::Reference) && args.reference_secs > 0 {
        let secs = args.reference_secs;
        println!("\n-- reference (not targets): {secs} s each at c={c}");
        let d = Duration::from_secs(secs);
        let healthz = {
            let base = base.clone();
            move |client: &Client, _| client.get(format!("{base}/healthz"))
        };
        let r = load(&client, c, d, StatusCode::OK, healthz).await?;
        r.report("GET /healthz (no auth, no database)");
        reference.push(format!(
            "reference: GET /healthz (no auth, no database): {:.1}/s, p50 {:.2} ms",
            r.rate(),
            r.latency.p(0.50)
        ));
        let me = {
            let base = base.clone();
            let token = token.clone();
            move |client: &Client, _| {
                client
                    .get(format!("{base}/api/v1/auth/me"))
                    .bearer_auth(&token)
            }
        };
        let r = load(&client, c, d, StatusCode::OK, me).await?;
        r.report("GET /api/v1/auth/me (JWT verify + token-liveness query)");
        reference.push(format!(
            "reference: GET /api/v1/auth/me (JWT verify + one token-liveness query): {:.1}/s, p50 {:.2} ms",
            r.rate(),
            r.latency.p(0.50)
        ));
        if let Some(setup) = &pgbench_setup {
            if let Some((script, triggers)) = setup.with_insert_triggers(&pool).await? {
                println!(
                    "measuring: pgbench as above for {secs} s, into a copy that also has the events \
                     table's INSERT triggers ({triggers})"
                );
                let r = run_pgbench(&args, &script, secs).await?;
                println!(
                    "pgbench with triggers: {} transactions = {:.1}/s, average latency {:.2} ms",
                    r.transactions, r.tps, r.latency_ms
                );
                reference.push(format!(
                    "reference: pgbench single-row insert with the events table's INSERT triggers \
                     ({triggers}) (c={c}, {secs} s): {:.1}/s",
                    r.tps
                ));
            }
        }
        reference.append(&mut stale_order);
        if let Some(r) = http_rounds.first() {
            reference.push(format!(
                "reference: POST /api/v1/tickets under load (c={c}): p50 {:.2} ms, p99 {:.2} ms",
                r.latency.p(0.50),
                r.latency.p(0.99)
            ));
        }
        if let Some(r) = pg_rounds.first() {
            reference.push(format!(
                "reference: pgbench insert under load (c={c}): average {:.2} ms",
                r.latency_ms
            ));
        }
    }
    if let Some(setup) = pgbench_setup {
        setup.drop_tables(&pool).await?;
    }
    let end_kib = rss_kib(args.server_pid)?;

    println!(
        "\n== Results (one run; {cores} cores shared by load generator, server and Postgres; \
         machine {:.0}% busy before the run; load average now {})",
        background.busy_percent(),
        load_average()
    );
    for line in summary {
        println!("{line}");
    }
    println!(
        "server memory at the end of the run: {:.1} MiB",
        mib(end_kib)
    );
    for line in cpu_lines.iter().chain(&reference) {
        println!("{line}");
    }
    Ok(())
}

/// The scratch table and script of the pgbench baseline.
struct PgbenchSetup {
    payload: String,
    metadata: String,
    avg_payload: f64,
    avg_metadata: f64,
    event_version: String,
    script: std::path::PathBuf,
}

impl PgbenchSetup {
    /// `bench_events`: same columns, defaults, identity, constraints and
    /// indexes as `events` (`LIKE ... INCLUDING ALL` copies no trigger), and a
    /// script inserting the server's latest TicketOpened payload and metadata.
    async fn create(pool: &PgPool) -> anyhow::Result<PgbenchSetup> {
        let (payload, metadata, event_version): (String, String, String) = sqlx::query_as(
            "SELECT payload::text, metadata::text, event_version FROM events
              WHERE event_type = 'TicketOpened' ORDER BY global_position DESC LIMIT 1",
        )
        .fetch_one(pool)
        .await
        .context("reading a TicketOpened event")?;
        let (avg_payload, avg_metadata): (f64, f64) = sqlx::query_as(
            "SELECT avg(octet_length(payload::text))::float8, avg(octet_length(metadata::text))::float8
               FROM events WHERE event_type = 'TicketOpened'",
        )
        .fetch_one(pool)
        .await?;
        sqlx::query("DROP TABLE IF EXISTS bench_events")
            .execute(pool)
            .await?;
        sqlx::query("CREATE TABLE bench_events (LIKE events INCLUDING ALL)")
            .execute(pool)
            .await?;
        let script = write_script(&pgbench_script(
            "bench_events",
            &event_version,
            &payload,
            &metadata,
        ))?;
        Ok(PgbenchSetup {
            payload,
            metadata,
            avg_payload,
            avg_metadata,
            event_version,
            script,
        })
    }

    fn describe(&self) -> String {
        format!(
            "pgbench row: TicketOpened payload {} B, metadata {} B (the server's TicketOpened rows \
             average {:.0} B and {:.0} B); table bench_events (LIKE events INCLUDING ALL: no trigger); \
             INSERT ... RETURNING like the server's",
            self.payload.len(),
            self.metadata.len(),
            self.avg_payload,
            self.avg_metadata
        )
    }

    /// The rows pgbench wrote are the server's row, byte for byte.
    async fn check(&self, pool: &PgPool) -> anyhow::Result<()> {
        let same: Option<bool> = sqlx::query_scalar(
            "SELECT payload = $1::jsonb AND metadata = $2::jsonb FROM bench_events LIMIT 1",
        )
        .bind(&self.payload)
        .bind(&self.metadata)
        .fetch_optional(pool)
        .await?;
        ensure!(
            same == Some(true),
            "pgbench rows differ from the TicketOpened row (variable substitution in the script?)"
        );
        Ok(())
    }

    /// When `events` has INSERT triggers (a NOTIFY, say): a second copy with
    /// them, and its script. Returns the script and the triggers' names.
    async fn with_insert_triggers(
        &self,
        pool: &PgPool,
    ) -> anyhow::Result<Option<(std::path::PathBuf, String)>> {
        // tgtype bit 2: fires on INSERT.
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "SELECT tgname::text, pg_get_triggerdef(oid) FROM pg_trigger
              WHERE tgrelid = 'events'::regclass AND NOT tgisinternal AND (tgtype & 4) <> 0
              ORDER BY tgname",
        )
        .fetch_all(pool)
        .await?;
        if triggers.is_empty() {
            return Ok(None);
        }
        sqlx::query("DROP TABLE IF EXISTS bench_events_triggered")
            .execute(pool)
            .await?;
        sqlx::query("CREATE TABLE bench_events_triggered (LIKE events INCLUDING ALL)")
            .execute(pool)
            .await?;
        for (name, def) in &triggers {
            let def = def
                .replacen(
                    " ON public.events ",
                    " ON public.bench_events_triggered ",
                    1,
                )
                .replacen(" ON events ", " ON bench_events_triggered ", 1);
            ensure!(
                def.contains("bench_events_triggered"),
                "cannot copy trigger {name}: {def}"
            );
            sqlx::query(&def).execute(pool).await?;
        }
        let script = write_script(&pgbench_script(
            "bench_events_triggered",
            &self.event_version,
            &self.payload,
            &self.metadata,
        ))?;
        let names: Vec<&str> = triggers.iter().map(|(n, _)| n.as_str()).collect();
        Ok(Some((script, names.join(", "))))
    }

    async fn drop_tables(self, pool: &PgPool) -> anyhow::Result<()> {
        if let Some(dir) = self.script.parent() {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(&script_prefix()) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        sqlx::query("DROP TABLE IF EXISTS bench_events, bench_events_triggered")
            .execute(pool)
            .await?;
        Ok(())
    }
}

fn script_prefix() -> String {
    format!("ticketera-bench-{}-", std::process::id())
}

fn write_script(text: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = std::env::temp_dir().join(format!(
        "{}{}.sql",
        script_prefix(),
        Uuid::new_v4().simple()
    ));
    std::fs::write(&path, text).context("writing the pgbench script")?;
    Ok(path)
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:`).
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status (is the server running?)"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("parsing '{line}'"))
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:")
}

/// Samples the server's VmRSS on its own thread, so a busy runtime cannot delay it.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    samples: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, peak, samples) = (stop.clone(), peak.clone(), samples.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                        samples.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(every);
                }
            })
        };
        RssSampler {
            stop,
            peak,
            samples,
            thread,
        }
    }

    /// (peak KiB, number of samples)
    fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        (
            self.peak.load(Ordering::Relaxed),
            self.samples.load(Ordering::Relaxed),
        )
    }
}

async fn wait_ready(
    client: &Client,
    base: &str,
    pid: u32,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            bail!("the server (pid {pid}) exited before it was ready");
        }
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{base}/readyz did not answer 200 within {} s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_token(client: &Client, base: &str, password: &str) -> anyhow::Result<String> {
    let res = client
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username=admin&password={}",
            form_encode(password)
        ))
        .send()
        .await
        .context("POST /api/v1/auth/token")?;
    let status = res.status();
    let body: Value = res.json().await.context("token response")?;
    ensure!(
        status == StatusCode::OK,
        "token request answered {status}: {body}"
    );
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .context("no access_token in the token response")
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A realistic ticket: title, description, severity, addresses, tags.
fn open_body(n: u64) -> String {
    json!({
        "title": format!("Suspicious outbound beaconing from workstation WS-{:05}", n % 100_000),
        "description": "EDR flagged periodic HTTPS connections every 60 s to a newly registered domain; \
                        the process tree shows powershell.exe spawned by winword.exe. Isolate and triage.",
        "severity": "HIGH",
        "source_ip": "10.20.1.15",
        "destination_ip": "203.0.113.45",
        "tags": ["edr", "beaconing", "phishing"],
    })
    .to_string()
}

fn comment_body(n: u64) -> String {
    json!({ "body": format!("Analyst note {n}: checked proxy logs for the destination; no further hosts contacted it.") })
        .to_string()
}

/// Latencies in milliseconds.
#[derive(Debug, Default, Clone)]
struct Samples(Vec<f64>);

impl Samples {
    fn n(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile, `q` in 0..=1.
    fn p(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }
}

#[derive(Debug, Default)]
struct LoadResult {
    ok: u64,
    errors: u64,
    first_error: String,
    elapsed: Duration,
    latency: Samples,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn report(&self, what: &str) {
        println!(
            "{what}: {} ok in {:.2} s = {:.1}/s; {} errors{}; latency p50 {:.2} ms, p99 {:.2} ms",
            self.ok,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.errors,
            if self.errors > 0 {
                format!(" (first: {})", self.first_error)
            } else {
                String::new()
            },
            self.latency.p(0.50),
            self.latency.p(0.99),
        );
    }
}

/// `concurrency` tasks sending requests back to back for `duration` over one
/// shared keep-alive client; each request's body is read so its connection is reused.
async fn load<F>(
    client: &Client,
    concurrency: usize,
    duration: Duration,
    expected: StatusCode,
    make: F,
) -> anyhow::Result<LoadResult>
where
    F: Fn(&Client, u64) -> RequestBuilder + Clone + Send + Sync + 'static,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let client = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut r = LoadResult::default();
            let mut n = worker as u64 * 1_000_000;
            while Instant::now() < deadline {
                n += 1;
                let t = Instant::now();
                let outcome = async {
                    let res = make(&client, n).send().await?;
                    let status = res.status();
                    let body = res.bytes().await?;
                    Ok::<_, reqwest::Error>((status, body))
                }
                .await;
                match outcome {
                    Ok((status, _)) if status == expected => {
                        r.ok += 1;
                        r.latency.0.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    Ok((status, body)) => {
                        r.errors += 1;
                        if r.first_error.is_empty() {
                            r.first_error = format!("{status}: {}", String::from_utf8_lossy(&body));
                        }
                    }
                    Err(e) => {
                        r.errors += 1;
                        if r.first_error.is_empty() {
                            r.first_error = e.to_string();
                        }
                    }
                }
            }
            r
        }));
    }
    let mut total = LoadResult::default();
    for t in tasks {
        let r = t.await.context("a load task panicked")?;
        total.ok += r.ok;
        total.errors += r.errors;
        if total.first_error.is_empty() {
            total.first_error = r.first_error;
        }
        total.latency.0.extend(r.latency.0);
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

/// How the server answered token-liveness checks so far (its `/metrics`):
/// from its cache or by a query.
async fn liveness_answers(client: &Client, base: &str) -> String {
    let text = match client.get(format!("{base}/metrics")).send().await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(e) => return format!("token liveness answers: /metrics unreadable ({e})"),
    };
    let count = |answer: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("ticketera_token_liveness_checks_total{"))
            .filter(|l| l.contains(&format!("answer=\"{answer}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    format!(
        "token liveness answers since the server started: {:.0} from its cache, {:.0} by a query",
        count("cache"),
        count("database")
    )
}

/// pgbench as this benchmark once ran it: right after the opens, while the
/// projector still works off their events. Shows what that did to the
/// baseline, and how far behind the projector was.
async fn pgbench_beside_backlog(
    pool: &PgPool,
    args: &Args,
    setup: &PgbenchSetup,
) -> anyhow::Result<String> {
    let backlog: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events e, rm_tickets.checkpoint c
          WHERE (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)",
    )
    .fetch_one(pool)
    .await?;
    let secs = args.reference_secs;
    println!(
        "measuring (reference): pgbench as above for {secs} s right after the opens, beside the \
         projector's backlog of {backlog} events"
    );
    let start = Instant::now();
    let r = run_pgbench(args, &setup.script, secs).await?;
    let waited = wait_projected(pool, Duration::from_secs(120)).await?;
    let caught_up = start.elapsed().as_secs_f64();
    println!(
        "pgbench beside the backlog: {:.1}/s; the projector caught up {caught_up:.1} s after the opens stopped ({waited:.1} s after pgbench)",
        r.tps
    );
    Ok(format!(
        "reference: pgbench run right after the opens, beside the projector's backlog of {backlog} events \
         (how this benchmark measured before): {:.1}/s for {secs} s; the projector caught up {caught_up:.1} s \
         after the opens stopped",
        r.tps
    ))
}

/// The machine's load average (1, 5, 15 min), as `/proc/loadavg` says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Waits until no event lies past either projection's checkpoint in feed
/// order (the projector has nothing left to do); returns the seconds waited.
async fn wait_projected(pool: &PgPool, timeout: Duration) -> anyhow::Result<f64> {
    let start = Instant::now();
    loop {
        let behind: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events e, rm_tickets.checkpoint c
                             WHERE (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position))
                 OR EXISTS (SELECT 1 FROM events e, rm_stats.checkpoint c
                             WHERE (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position))",
        )
        .fetch_one(pool)
        .await
        .context("reading the projections' checkpoints")?;
        if !behind {
            return Ok(start.elapsed().as_secs_f64());
        }
        ensure!(
            start.elapsed() < timeout,
            "the projector did not catch up within {} s",
            timeout.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts each throughput run from a clean checkpoint, so neither inherits the other's dirty pages.
async fn checkpoint(pool: &PgPool) -> anyhow::Result<()> {
    if let Err(e) = sqlx::query("CHECKPOINT").execute(pool).await {
        println!("(CHECKPOINT refused: {e}; runs may inherit each other's dirty pages)");
    }
    Ok(())
}

/// One INSERT per transaction, of the server's own statement and row shape.
/// pgbench substitutes `:name` variables; none is defined, so the JSON stays as is
/// (checked after the run).
fn pgbench_script(table: &str, event_version: &str, payload: &str, metadata: &str) -> String {
    let q = |s: &str| s.replace('\'', "''");
    format!(
        "INSERT INTO {table} (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('Ticket', gen_random_uuid()::text, 1, 'TicketOpened', '{}', '{}'::jsonb, '{}'::jsonb) \
         RETURNING transaction_id::text AS transaction_id, global_position;\n",
        q(event_version),
        q(payload),
        q(metadata),
    )
}

struct PgbenchResult {
    tps: f64,
    transactions: u64,
    failed: u64,
    latency_ms: f64,
}

async fn run_pgbench(
    args: &Args,
    script: &std::path::Path,
    secs: u64,
) -> anyhow::Result<PgbenchResult> {
    let out = tokio::process::Command::new(&args.pgbench)
        .arg("-n")
        .arg(format!("-c{}", args.concurrency))
        .arg(format!("-j{}", args.pgbench_threads))
        .arg(format!("-T{secs}"))
        .arg("-f")
        .arg(script)
        .arg(&args.database_url)
        .output()
        .await
        .with_context(|| format!("running {}", args.pgbench))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.success(),
        "pgbench failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let field = |prefix: &str| -> Option<&str> {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(str::trim)
    };
    let first_number = |s: &str| -> Option<f64> { s.split_whitespace().next()?.parse().ok() };
    let tps = field("tps =")
        .and_then(first_number)
        .with_context(|| format!("no 'tps =' in pgbench's output:\n{stdout}"))?;
    let transactions = field("number of transactions actually processed:")
        .and_then(first_number)
        .unwrap_or(0.0) as u64;
    let failed = field("number of failed transactions:")
        .and_then(first_number)
        .unwrap_or(0.0) as u64;
    let latency_ms = field("latency average =")
        .and_then(first_number)
        .unwrap_or(f64::NAN);
    Ok(PgbenchResult {
        tps,
        transactions,
        failed,
        latency_ms,
    })
}

struct Latency {
    short: Samples,
    long: Samples,
    long_first_ms: f64,
    /// Server CPU per command, microseconds.
    short_cpu_us: f64,
    long_cpu_us: f64,
}

/// CPU time the server's threads have run, in nanoseconds (first field of
/// each `/proc/<pid>/task/<tid>/schedstat`): exact, unlike clock ticks.
fn server_cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

async fn timed<T>(f: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<(f64, T)> {
    let t = Instant::now();
    let v = f.await?;
    Ok((t.elapsed().as_secs_f64() * 1e3, v))
}

/// POSTs a command and returns the ticket's new version.
async fn command(req: RequestBuilder, expected: StatusCode) -> anyhow::Result<(Uuid, u64)> {
    let res = req.send().await?;
    let status = res.status();
    let body: Value = res.json().await?;
    ensure!(status == expected, "answered {status}: {body}");
    let id = body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .context("no id in the answer")?;
    let version = body["version"]
        .as_u64()
        .context("no version in the answer")?;
    Ok((id, version))
}

async fn open_ticket(client: &Client, base: &str, token: &str, n: u64) -> anyhow::Result<Uuid> {
    let req = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(open_body(n));
    Ok(command(req, StatusCode::CREATED)
        .await
        .context("opening a ticket")?
        .0)
}

async fn add_comment(
    client: &Client,
    base: &str,
    token: &str,
    id: Uuid,
    n: u64,
) -> anyhow::Result<u64> {
    let req = client
        .post(format!("{base}/api/v1/tickets/{id}/comments"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(comment_body(n));
    Ok(command(req, StatusCode::OK)
        .await
        .with_context(|| format!("commenting on {id}"))?
        .1)
}

/// Appends `CommentAdded` events with sequences `from..=to` straight into the
/// store, in the exact shape the server writes (the domain's own serialization,
/// the metadata object of `CommandContext`), in batches of one statement each.
async fn append_comments_sql(pool: &PgPool, id: Uuid, from: u64, to: u64) -> anyhow::Result<()> {
    let key = id.to_string();
    let mut seq = from;
    while seq <= to {
        let end = (seq + 1999).min(to);
        let mut sequences = Vec::new();
        let mut payloads = Vec::new();
        let mut metadatas = Vec::new();
        for s in seq..=end {
            let at = Utc::now();
            let event = TicketEvent::CommentAdded {
                comment_id: Uuid::new_v4(),
                body: format!("Analyst note {s}: checked proxy logs for the destination; no further hosts contacted it."),
                by: "admin".into(),
                at,
            };
            sequences.push(s as i64);
            payloads.push(serde_json::to_string(&event)?);
            metadatas.push(
                json!({
                    "actor": "admin",
                    "actor_kind": "user",
                    "command_id": Uuid::new_v4().to_string(),
                    "correlation_id": Uuid::new_v4().to_string(),
                    "channel": "api",
                    "occurred_at": at.to_rfc3339_opts(SecondsFormat::AutoSi, false),
                })
                .to_string(),
            );
        }
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'Ticket', $1, s, 'CommentAdded', '1.0', p::jsonb, m::jsonb
               FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(s, p, m)",
        )
        .bind(&key)
        .bind(&sequences)
        .bind(&payloads)
        .bind(&metadatas)
        .execute(pool)
        .await
        .context("inserting CommentAdded events")?;
        seq = end + 1;
    }
    Ok(())
}

async fn latency(
    client: &Client,
    base: &str,
    token: &str,
    pool: &PgPool,
    args: &Args,
) -> anyhow::Result<Latency> {
    ensure!(
        args.long_events > SHORT_EVENTS,
        "--long-events must exceed {SHORT_EVENTS}"
    );
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n
    };

    // Short ticket: opened and commented over HTTP up to SHORT_EVENTS events.
    let short = open_ticket(client, base, token, next()).await?;
    let mut short_version = 1;
    while short_version < SHORT_EVENTS {
        short_version = add_comment(client, base, token, short, next()).await?;
    }

    // Long ticket: opened over HTTP, the rest written by SQL.
    let long = open_ticket(client, base, token, next()).await?;
    let (ms, ()) = timed(append_comments_sql(pool, long, 2, args.long_events)).await?;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(long.to_string())
        .fetch_one(pool)
        .await?;
    ensure!(
        stored as u64 == args.long_events,
        "the long ticket has {stored} events, not {}",
        args.long_events
    );
    println!(
        "ticket {short}: {short_version} events (over HTTP); ticket {long}: {stored} events ({} CommentAdded written by SQL in {ms:.0} ms)",
        args.long_events - 1
    );

    // The server cached the long ticket at version 1: its first command loads the tail.
    let (long_first_ms, v) = timed(add_comment(client, base, token, long, next())).await?;
    ensure!(
        v == args.long_events + 1,
        "the long ticket answered version {v}, not {}",
        args.long_events + 1
    );
    println!(
        "first command on the long ticket (tail of {} events loaded): {long_first_ms:.1} ms",
        args.long_events - 1
    );

    println!(
        "warming up: {} comments on each ticket (not counted)",
        args.warmup_commands
    );
    for _ in 0..args.warmup_commands {
        add_comment(client, base, token, short, next()).await?;
        add_comment(client, base, token, long, next()).await?;
    }

    println!(
        "measuring: {} sequential comments on each ticket, alternating between them",
        args.commands
    );
    let mut short_ms = Samples::default();
    let mut long_ms = Samples::default();
    let (mut short_cpu_ns, mut long_cpu_ns) = (0u64, 0u64);
    let mut last = (0, 0);
    for _ in 0..args.commands {
        let cpu = server_cpu_ns(args.server_pid);
        let (ms, v) = timed(add_comment(client, base, token, short, next())).await?;
        short_cpu_ns += server_cpu_ns(args.server_pid).saturating_sub(cpu);
        short_ms.0.push(ms);
        last.0 = v;
        let cpu = server_cpu_ns(args.server_pid);
        let (ms, v) = timed(add_comment(client, base, token, long, next())).await?;
        long_cpu_ns += server_cpu_ns(args.server_pid).saturating_sub(cpu);
        long_ms.0.push(ms);
        last.1 = v;
    }
    let n = args.commands.max(1) as f64;
    let short_cpu_us = short_cpu_ns as f64 / n / 1e3;
    let long_cpu_us = long_cpu_ns as f64 / n / 1e3;
    println!(
        "short ticket: p50 {:.2} ms, p99 {:.2} ms, now {} events; long ticket: p50 {:.2} ms, p99 {:.2} ms, now {} events",
        short_ms.p(0.5),
        short_ms.p(0.99),
        last.0,
        long_ms.p(0.5),
        long_ms.p(0.99),
        last.1
    );
    println!(
        "server CPU per comment (all its threads, from /proc/<pid>/task/*/schedstat): \
         short ticket {short_cpu_us:.0} µs, long ticket {long_cpu_us:.0} µs"
    );
    Ok(Latency {
        short: short_ms,
        long: long_ms,
        long_first_ms,
        short_cpu_us,
        long_cpu_us,
    })
}

/// CPU time in clock ticks (USER_HZ): the whole machine, and who spent it.
#[derive(Debug, Default, Clone, Copy)]
struct Cpu {
    /// Busy ticks of all cores (`/proc/stat`).
    busy: u64,
    /// All ticks of all cores, idle included.
    all: u64,
    /// The server process.
    server: u64,
    /// This process: the HTTP load generator.
    own: u64,
    /// This process's reaped children: pgbench.
    children: u64,
    /// Postgres backends serving the benchmark's database.
    pg_ours: u64,
    /// Postgres's WAL writer, checkpointer and background writer (shared by all databases).
    pg_aux: u64,
}

/// utime, stime, cutime, cstime of `/proc/<pid>/stat`, and its comm.
fn proc_times(pid: &str) -> Option<(String, [u64; 4])> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    // Fields after the comm start at field 3 (state); utime is field 14.
    let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Some((comm, [n(11), n(12), n(13), n(14)]))
}

impl Cpu {
    fn snapshot(server_pid: u32) -> Cpu {
        let mut cpu = Cpu::default();
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            if let Some(line) = stat.lines().next() {
                let v: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                let get = |i: usize| v.get(i).copied().unwrap_or(0);
                // user nice system idle iowait irq softirq steal
                cpu.busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
                cpu.all = cpu.busy + get(3) + get(4);
            }
        }
        if let Some((_, t)) = proc_times(&server_pid.to_string()) {
            cpu.server = t[0] + t[1];
        }
        if let Some((_, t)) = proc_times("self") {
            cpu.own = t[0] + t[1];
            cpu.children = t[2] + t[3];
        }
        cpu
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            busy: self.busy.saturating_sub(before.busy),
            all: self.all.saturating_sub(before.all),
            server: self.server.saturating_sub(before.server),
            own: self.own.saturating_sub(before.own),
            children: self.children.saturating_sub(before.children),
            pg_ours: self.pg_ours.saturating_sub(before.pg_ours),
            pg_aux: self.pg_aux.saturating_sub(before.pg_aux),
        }
    }

    fn busy_percent(&self) -> f64 {
        100.0 * self.busy as f64 / self.all.max(1) as f64
    }

    /// CPU per operation by party, in microseconds, and how busy the machine was.
    fn per_op(&self, op: &str, ops: u64, client: &str, cores: usize) -> String {
        let hz = 100.0; // USER_HZ on Linux
        let us = |ticks: u64| ticks as f64 / hz * 1e6 / ops.max(1) as f64;
        let client_ticks = self.own + self.children;
        let rest = self
            .busy
            .saturating_sub(self.server + client_ticks + self.pg_ours + self.pg_aux);
        format!(
            "CPU per {op}: server {:.0} µs, {client} {:.0} µs, Postgres backends of this database {:.0} µs, \
             Postgres WAL writer/checkpointer {:.0} µs, everything else on the machine {:.0} µs = {:.0} µs; \
             machine busy {:.0}% of {cores} cores",
            us(self.server),
            us(client_ticks),
            us(self.pg_ours),
            us(self.pg_aux),
            us(rest),
            us(self.busy),
            self.busy_percent(),
        )
    }
}

/// Measures who used the CPU over a window. Postgres backends come and go
/// (pgbench's exit with it), so a thread follows each one every 100 ms.
struct CpuWindow {
    start: Cpu,
    server_pid: u32,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64)>,
}

impl CpuWindow {
    fn start(server_pid: u32, database: &str) -> CpuWindow {
        let stop = Arc::new(AtomicBool::new(false));
        let marker = format!(" {database} ");
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // pid -> (ticks when first seen, ticks when last seen, ours?)
                let mut seen: std::collections::HashMap<String, (u64, u64, bool)> =
                    Default::default();
                let mut first_scan = true;
                loop {
                    let stopping = stop.load(Ordering::Relaxed);
                    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                        let name = entry.file_name();
                        let Some(pid) = name
                            .to_str()
                            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                        else {
                            continue;
                        };
                        let Some((comm, t)) = proc_times(pid) else {
                            continue;
                        };
                        if comm != "postgres" {
                            continue;
                        }
                        let ticks = t[0] + t[1];
                        if let Some(e) = seen.get_mut(pid) {
                            e.1 = ticks;
                            continue;
                        }
                        // The process title tells a backend's database.
                        let title = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                            .unwrap_or_default()
                            .replace('\0', " ");
                        let ours = title.contains(&marker);
                        let aux = ["walwriter", "checkpointer", "background writer"]
                            .iter()
                            .any(|a| title.contains(a));
                        if ours || aux {
                            // Processes started inside the window count from zero.
                            let base = if first_scan { ticks } else { 0 };
                            seen.insert(pid.to_string(), (base, ticks, ours));
                        }
                    }
                    first_scan = false;
                    if stopping {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                seen.values().fold((0, 0), |(o, a), (first, last, ours)| {
                    let d = last.saturating_sub(*first);
                    if *ours {
                        (o + d, a)
                    } else {
                        (o, a + d)
                    }
                })
            })
        };
        CpuWindow {
            start: Cpu::snapshot(server_pid),
            server_pid,
            stop,
            thread,
        }
    }

    fn finish(self) -> Cpu {
        let end = Cpu::snapshot(self.server_pid);
        self.stop.store(true, Ordering::Relaxed);
        let (pg_ours, pg_aux) = self.thread.join().unwrap_or((0, 0));
        Cpu {
            pg_ours,
            pg_aux,
            ..end.since(&self.start)
        }
    }
}

/// The database name of a `postgres://` URL.
fn database_name(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or_default().to_string()
}
