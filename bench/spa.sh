#!/usr/bin/env bash
# The analysts' SPA benchmark of Ticketera SOC: a benchmark, not a test.
#
#   bash bench/spa.sh
#
# Runs bench/spa.mjs (Playwright through playwright-core, Debian's
# /usr/bin/chromium) against `ticketera serve` on a fresh database of a
# private PostgreSQL cluster (bench/lib.sh; or $BENCH_DATABASE_SERVER) and
# prints, each beside its comparison from the same run:
#   1. the initial JavaScript, gzip, against the 300 KB budget;
#   2. the queue's first useful render with 10,000 tickets (opened over REST,
#      through the domain) against a static page of the same rows from the
#      same server, cold and warm cache (budget 1.5 s);
#   3. command 2xx → the row changed in another browser context at 20
#      commands/s (budget p95 ≤ 200 ms), beside a bare graphql-ws client.
# The binary: target/release/ticketera when it exists (this script never
# builds a release), else target/debug/ticketera (cargo build -p ticketera);
# TICKETERA_BIN names another. web/dist is built when missing.
# SPA_BENCH_TICKETS, SPA_BENCH_RUNS, SPA_BENCH_RATE, SPA_BENCH_SECONDS tune it.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
. scripts/lib.sh
spa_bench_prepare
TEST_DATABASE_URL="$server" TICKETERA_BIN="$bin" node bench/spa.mjs
