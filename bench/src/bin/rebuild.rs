//! Rebuild speed of the projector, beside a plain read of the same rows.
//!
//! Fills a database (fresh, migrated: `bench/rebuild.sh` makes one) with
//! synthetic tickets written straight with SQL, then measures in one run:
//!
//! 1. a plain `SELECT` of every event, streamed to the client: the rate
//!    Postgres and the driver can hand rows over at (the baseline);
//! 2. the same rows read the way a rebuild reads them (the gap-safe feed, in
//!    pages) and decoded into domain events;
//! 3. `projector::rebuild` of each projection and of all of them, in events
//!    projected per second, and its ratio to (1). Target: ≥ 0.25.

use std::time::Instant;

use anyhow::{ensure, Context};
use clap::Parser;
use futures::TryStreamExt;
use platform::event_store::{EventCodec, STORED_EVENT_COLUMNS};
use platform::position::Position;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

// `ticketera projector rebuild` runs with mimalloc (src/main.rs): measure
// the rebuild with the allocator it ships with, not glibc's, whose
// malloc and free were a third of the fold's time here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Target: rebuild rate relative to the plain read rate.
const TARGET_RATIO: f64 = 0.25;

#[derive(Debug, Parser)]
#[command(
    name = "rebuild",
    about = "Projector rebuild speed over synthetic events (run by bench/rebuild.sh)"
)]
struct Args {
    /// A fresh, empty database; migrations are applied.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: String,
    /// Synthetic tickets; ten events each.
    #[arg(long, default_value_t = 100_000)]
    tickets: i64,
    /// Tickets in flight at once (how far apart a ticket's events are).
    #[arg(long, default_value_t = 2_000)]
    window: i64,
    /// Use the events already in the database instead of writing new ones.
    #[arg(long)]
    reuse: bool,
}

fn rate(events: u64, secs: f64) -> f64 {
    events as f64 / secs.max(1e-9)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init_tracing(false);
    let args = Args::parse();
    let options: PgConnectOptions = args.database_url.parse().context("BENCH_DATABASE_URL")?;
    let options = options.disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone())
        .await
        .context("connecting")?;
    platform::db::migrate(&pool).await.context("migrating")?;

    let mut conn = PgConnection::connect_with(&options).await?;
    if !args.reuse {
        let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&mut conn)
            .await?;
        ensure!(
            existing == 0,
            "the database already holds {existing} events: give a fresh one, or --reuse"
        );
        let started = Instant::now();
        let written = projector::synthetic::insert_tickets(
            &mut conn,
            "bench",
            args.tickets,
            0,
            args.window,
            100_000,
        )
        .await
        .context("writing synthetic events")?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "wrote {written} synthetic events ({} tickets) with SQL in {secs:.1} s",
            args.tickets
        );
        sqlx::query("VACUUM ANALYZE events")
            .execute(&mut conn)
            .await?;
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut conn)
        .await?;
    let events = events as u64;
    let bytes: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('events'))")
            .fetch_one(&mut conn)
            .await?;
    println!("events: {events} ({bytes} on disk with indexes)");

    // 1. The plain read, twice: the first warms the caches.
    let plain_sql = format!(
        "SELECT {STORED_EVENT_COLUMNS} FROM events ORDER BY events.transaction_id, events.global_position"
    );
    let mut plain_secs = f64::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        let mut rows = sqlx::query(&plain_sql).fetch(&mut conn);
        let mut n = 0u64;
        while rows.try_next().await?.is_some() {
            n += 1;
        }
        drop(rows);
        ensure!(n == events, "plain read saw {n} rows, expected {events}");
        plain_secs = plain_secs.min(started.elapsed().as_secs_f64());
    }
    let plain = rate(events, plain_secs);
    println!(
        "plain SELECT of the same rows (streamed, best of 2): {plain_secs:.2} s = {plain:.0} rows/s"
    );

    // 2. As a rebuild reads: the feed in pages, decoded to domain events.
    let codec = EventCodec::default();
    let started = Instant::now();
    let mut at = Position::default();
    let mut n = 0u64;
    loop {
        let page = platform::feed::read_after(&mut conn, &codec, at, 5_000).await?;
        let Some(last) = page.last() else { break };
        at = last.position;
        n += page.len() as u64;
    }
    let feed_secs = started.elapsed().as_secs_f64();
    println!(
        "feed read + decode (pages of 5000): {feed_secs:.2} s = {:.0} events/s ({:.2} of plain)",
        rate(n, feed_secs),
        rate(n, feed_secs) / plain
    );

    // 3. Rebuilds.
    let mut all_secs = 0.0;
    for p in projector::PROJECTIONS {
        let reports = projector::rebuild(&pool, Some(p)).await?;
        for r in reports {
            let secs = r.elapsed.as_secs_f64();
            all_secs += secs;
            let projected = rate(r.events, secs);
            println!(
                "rebuild {:<8} {} events in {secs:.2} s = {projected:.0} events/s = {:.2} of plain",
                r.projection,
                r.events,
                projected / plain
            );
        }
    }
    let started = Instant::now();
    let reports = projector::rebuild(&pool, None).await?;
    let secs = started.elapsed().as_secs_f64();
    let all = rate(events, secs);
    println!(
        "rebuild all ({}) {events} events in {secs:.2} s = {all:.0} events/s = {:.2} of plain (sum of the single runs: {all_secs:.2} s)",
        reports.iter().map(|r| r.projection).collect::<Vec<_>>().join(" + "),
        all / plain
    );
    let slowest = reports
        .iter()
        .map(|r| rate(r.events, r.elapsed.as_secs_f64()))
        .fold(f64::MAX, f64::min);
    println!(
        "target: each projection's rebuild ≥ {TARGET_RATIO} of the plain read: {}",
        if slowest / plain >= TARGET_RATIO {
            format!("met ({:.2})", slowest / plain)
        } else {
            format!("MISSED ({:.2})", slowest / plain)
        }
    );
    Ok(())
}
