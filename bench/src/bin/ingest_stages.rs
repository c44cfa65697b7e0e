//! Where a syslog message's time goes in ingest, stage by stage, without
//! sockets or a database: the listener's copy of the datagram, the parse,
//! the rules' decision, and allocations per message of each. A benchmark,
//! not a test.
//!
//!   ingest_stages <file of lines> [passes, default 5]
//!
//! The file is one message a line, e.g. the flood bench/ingest.sh writes.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use ingest::parse::{parse_syslog, ParseContext};
use ingest::rules::{Decision, Quick, Rules};

/// mimalloc, as the service runs, counting allocations.
struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static INNER: mimalloc::MiMalloc = mimalloc::MiMalloc;

// SAFETY: every call is forwarded unchanged to mimalloc.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        INNER.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        INNER.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        INNER.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .context("usage: ingest_stages <file of lines> [passes]")?;
    let passes: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let text = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let rules = Rules::default_rules();
    let ctx = ParseContext::default();
    let n = (lines.len() * passes) as f64;
    let (mut copy, mut parse, mut decide) = (0f64, 0f64, 0f64);
    let (mut copy_a, mut parse_a, mut decide_a) = (0u64, 0u64, 0u64);
    let mut alerts = 0u64;
    for _ in 0..passes {
        for line in &lines {
            let (a0, t0) = (ALLOCS.load(Ordering::Relaxed), Instant::now());
            let bytes = line.to_vec();
            let (a1, t1) = (ALLOCS.load(Ordering::Relaxed), Instant::now());
            let event = parse_syslog(&bytes, &ctx);
            let (a2, t2) = (ALLOCS.load(Ordering::Relaxed), Instant::now());
            if let Ok(e) = &event {
                if let Decision::Alert(_) = rules.decide(e) {
                    alerts += 1;
                }
            }
            let (a3, t3) = (ALLOCS.load(Ordering::Relaxed), Instant::now());
            drop(event);
            drop(bytes);
            copy += (t1 - t0).as_secs_f64();
            parse += (t2 - t1).as_secs_f64();
            decide += (t3 - t2).as_secs_f64();
            copy_a += a1 - a0;
            parse_a += a2 - a1;
            decide_a += a3 - a2;
        }
    }
    // What the workers do: the FortiGate fast path, the full reading for
    // alerts and other messages (pipeline::handle_batch, without counting).
    let (mut worker, mut worker_a) = (0f64, 0u64);
    for _ in 0..passes {
        for line in &lines {
            let (a0, t0) = (ALLOCS.load(Ordering::Relaxed), Instant::now());
            let bytes = line.to_vec();
            let done = matches!(
                ingest::pipeline::quick(&bytes, &rules),
                Some(Quick::NotAlert | Quick::Suppressed)
            );
            if !done {
                if let Ok((_, Decision::Alert(a))) = ingest::pipeline::read(&bytes, &rules, &ctx) {
                    std::hint::black_box(a);
                }
            }
            drop(bytes);
            worker += t0.elapsed().as_secs_f64();
            worker_a += ALLOCS.load(Ordering::Relaxed) - a0;
        }
    }
    let ns = |s: f64| s * 1e9 / n;
    println!(
        "{} messages ({} lines x {passes}), {alerts} alerts",
        n as u64,
        lines.len()
    );
    println!(
        "  copy   {:7.0} ns/msg {:5.1} allocs/msg",
        ns(copy),
        copy_a as f64 / n
    );
    println!(
        "  parse  {:7.0} ns/msg {:5.1} allocs/msg",
        ns(parse),
        parse_a as f64 / n
    );
    println!(
        "  decide {:7.0} ns/msg {:5.1} allocs/msg",
        ns(decide),
        decide_a as f64 / n
    );
    println!(
        "  copy + parse + decide {:7.0} ns/msg = {:.0} msg/s on one core",
        ns(copy + parse + decide),
        n / (copy + parse + decide)
    );
    println!(
        "  worker path (copy, FortiGate fast path, full reading of alerts) {:7.0} ns/msg {:5.1} allocs/msg = {:.0} msg/s on one core (load average {})",
        ns(worker),
        worker_a as f64 / n,
        n / worker,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}
