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
    /// Seconds to wait for GET /readyz.
    #[arg(long, default_value_t = 60)]
    ready_timeout: u64,
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

    println!("== Ticketera SOC command-side benchmark");
    println!(
        "machine: {cores} cores, shared by the load generator (this process), the server (pid {}) and Postgres: \
         every figure below includes that contention",
        args.server_pid
    );

    wait_ready(
        &client,
        &base,
        args.server_pid,
        Duration::from_secs(args.ready_timeout),
    )
    .await?;

    // (3a) Idle memory: after start, before any load.
    let mut idle_kib = 0;
    for _ in 0..10 {
        idle_kib = idle_kib.max(rss_kib(args.server_pid)?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "server resident memory idle: {:.1} MiB (VmRSS, max of 10 samples over 1 s)",
        mib(idle_kib)
    );

    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await
        .context("connecting to the benchmark database")?;
    let token = get_token(&client, &base, &args.admin_password).await?;

    // (1) Opening tickets over HTTP, with (3b) the memory sampler running.
    let sampler = RssSampler::start(args.server_pid, Duration::from_millis(100));
    let c = args.concurrency;
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
    println!("\n-- (1) throughput: opening tickets over HTTP vs. pgbench single-row insert");
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
    checkpoint(&pool).await?;
    println!("measuring: {} s of opens at c={c}", args.duration);
    let http = load(
        &client,
        c,
        Duration::from_secs(args.duration),
        StatusCode::CREATED,
        open,
    )
    .await?;
    let (peak_kib, samples) = sampler.stop();
    let hwm_kib = status_kib(args.server_pid, "VmHWM:")?;
    http.report("open tickets over HTTP");

    // The same row shape for pgbench: a TicketOpened payload and metadata the server just wrote.
    let (payload, metadata): (String, String) = sqlx::query_as(
        "SELECT payload::text, metadata::text FROM events WHERE event_type = 'TicketOpened'
          ORDER BY global_position DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .context("reading a TicketOpened event")?;
    let (avg_payload, avg_meta): (f64, f64) = sqlx::query_as(
        "SELECT avg(octet_length(payload::text))::float8, avg(octet_length(metadata::text))::float8
           FROM events WHERE event_type = 'TicketOpened'",
    )
    .fetch_one(&pool)
    .await?;
    sqlx::query("DROP TABLE IF EXISTS bench_events")
        .execute(&pool)
        .await?;
    // Same columns, defaults, identity, constraints and indexes as `events`
    // (its triggers fire on UPDATE/DELETE/TRUNCATE only: none on INSERT).
    sqlx::query("CREATE TABLE bench_events (LIKE events INCLUDING ALL)")
        .execute(&pool)
        .await?;
    let script = pgbench_script(&payload, &metadata);
    let script_path =
        std::env::temp_dir().join(format!("ticketera-bench-{}.sql", Uuid::new_v4().simple()));
    std::fs::write(&script_path, &script).context("writing the pgbench script")?;
    println!(
        "pgbench row: TicketOpened payload {} B, metadata {} B (server's TicketOpened rows average {:.0} B and {:.0} B); \
         table bench_events (LIKE events INCLUDING ALL); INSERT ... RETURNING like the server's",
        payload.len(),
        metadata.len(),
        avg_payload,
        avg_meta
    );
    checkpoint(&pool).await?;
    println!(
        "measuring: {} -n -c{c} -j{} -T{} -f <script> (one INSERT per transaction)",
        args.pgbench, args.pgbench_threads, args.duration
    );
    let pg = run_pgbench(&args, &script_path).await;
    let _ = std::fs::remove_file(&script_path);
    let pg = pg?;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bench_events")
        .fetch_one(&pool)
        .await?;
    let same: bool = sqlx::query_scalar(
        "SELECT payload = $1::jsonb AND metadata = $2::jsonb FROM bench_events LIMIT 1",
    )
    .bind(&payload)
    .bind(&metadata)
    .fetch_one(&pool)
    .await?;
    ensure!(
        same,
        "pgbench rows differ from the TicketOpened row (variable substitution in the script?)"
    );
    println!(
        "pgbench: {} transactions, {} failed, {rows} rows in bench_events, average latency {:.2} ms",
        pg.transactions, pg.failed, pg.latency_ms
    );
    sqlx::query("DROP TABLE bench_events")
        .execute(&pool)
        .await?;

    // (2) Command latency on a short and on a long ticket.
    println!(
        "\n-- (2) latency: comment command on a {SHORT_EVENTS}-event ticket vs. a {}-event ticket",
        args.long_events
    );
    let lat = latency(&client, &base, &token, &pool, &args).await?;

    // Reference figures that locate the cost of a command (not targets).
    let mut reference = Vec::new();
    if args.reference_secs > 0 {
        println!(
            "\n-- reference (not targets): cheaper requests at c={c}, {} s each",
            args.reference_secs
        );
        let d = Duration::from_secs(args.reference_secs);
        let healthz = {
            let base = base.clone();
            move |client: &Client, _| client.get(format!("{base}/healthz"))
        };
        let r = load(&client, c, d, StatusCode::OK, healthz).await?;
        r.report("GET /healthz (no auth, no database)");
        reference.push(("GET /healthz", r));
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
        reference.push(("GET /api/v1/auth/me", r));
    }
    let end_kib = rss_kib(args.server_pid)?;

    // Summary.
    let ratio = http.rate() / pg.tps;
    let lat_ratio = lat.long.p(0.50) / lat.short.p(0.50);
    println!("\n== Results (one run; {cores} cores shared by load generator, server and Postgres)");
    println!(
        "open tickets over HTTP (c={c}, {} s): {:.1}/s  ({} errors)",
        args.duration,
        http.rate(),
        http.errors
    );
    println!(
        "pgbench single-row insert (c={c}, {} s): {:.1}/s",
        args.duration, pg.tps
    );
    println!(
        "ratio: {ratio:.2} (target >= {TARGET_THROUGHPUT_RATIO}) {}",
        verdict(ratio >= TARGET_THROUGHPUT_RATIO)
    );
    println!(
        "comment latency, {SHORT_EVENTS}-event ticket ({} commands): p50 {:.2} ms, p99 {:.2} ms",
        lat.short.n(),
        lat.short.p(0.50),
        lat.short.p(0.99)
    );
    println!(
        "comment latency, {}-event ticket ({} commands): p50 {:.2} ms, p99 {:.2} ms",
        args.long_events,
        lat.long.n(),
        lat.long.p(0.50),
        lat.long.p(0.99)
    );
    println!("latency ratio (p50 long / p50 short): {lat_ratio:.2}x (target <= {TARGET_LATENCY_RATIO}x) {}", verdict(lat_ratio <= TARGET_LATENCY_RATIO));
    println!(
        "first command on the long ticket (loads and folds the {} events written by SQL): {:.1} ms",
        args.long_events - 1,
        lat.long_first_ms
    );
    println!(
        "server memory idle: {:.1} MiB (target <= {TARGET_IDLE_MIB} MiB) {}",
        mib(idle_kib),
        verdict(mib(idle_kib) <= TARGET_IDLE_MIB)
    );
    println!(
        "server memory peak under (1): {:.1} MiB sampled every 100 ms ({samples} samples), VmHWM {:.1} MiB (target <= {TARGET_LOADED_MIB} MiB) {}",
        mib(peak_kib),
        mib(hwm_kib),
        verdict(mib(peak_kib.max(hwm_kib)) <= TARGET_LOADED_MIB)
    );
    println!(
        "server memory at the end of the run: {:.1} MiB",
        mib(end_kib)
    );
    for (name, r) in &reference {
        println!(
            "reference: {name} (c={c}): {:.1}/s, p50 {:.2} ms",
            r.rate(),
            r.latency.p(0.50)
        );
    }
    println!(
        "reference: POST /api/v1/tickets (c={c}): p50 {:.2} ms, p99 {:.2} ms; pgbench insert average {:.2} ms",
        http.latency.p(0.50),
        http.latency.p(0.99),
        pg.latency_ms
    );
    Ok(())
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
fn pgbench_script(payload: &str, metadata: &str) -> String {
    let q = |s: &str| s.replace('\'', "''");
    format!(
        "INSERT INTO bench_events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('Ticket', gen_random_uuid()::text, 1, 'TicketOpened', '2.0', '{}'::jsonb, '{}'::jsonb) \
         RETURNING transaction_id::text AS transaction_id, global_position;\n",
        q(payload),
        q(metadata)
    )
}

struct PgbenchResult {
    tps: f64,
    transactions: u64,
    failed: u64,
    latency_ms: f64,
}

async fn run_pgbench(args: &Args, script: &std::path::Path) -> anyhow::Result<PgbenchResult> {
    let out = tokio::process::Command::new(&args.pgbench)
        .arg("-n")
        .arg(format!("-c{}", args.concurrency))
        .arg(format!("-j{}", args.pgbench_threads))
        .arg(format!("-T{}", args.duration))
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
    let mut last = (0, 0);
    for _ in 0..args.commands {
        let (ms, v) = timed(add_comment(client, base, token, short, next())).await?;
        short_ms.0.push(ms);
        last.0 = v;
        let (ms, v) = timed(add_comment(client, base, token, long, next())).await?;
        long_ms.0.push(ms);
        last.1 = v;
    }
    println!(
        "short ticket: p50 {:.2} ms, p99 {:.2} ms, now {} events; long ticket: p50 {:.2} ms, p99 {:.2} ms, now {} events",
        short_ms.p(0.5),
        short_ms.p(0.99),
        last.0,
        long_ms.p(0.5),
        long_ms.p(0.99),
        last.1
    );
    Ok(Latency {
        short: short_ms,
        long: long_ms,
        long_first_ms,
    })
}
