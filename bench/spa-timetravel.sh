#!/usr/bin/env bash
# The auditors' time-travel benchmark of Ticketera SOC: a benchmark, not a test.
#
#   bash bench/spa-timetravel.sh
#
# Runs bench/spa-timetravel.mjs (Playwright through playwright-core, Debian's
# /usr/bin/chromium) against `ticketera serve` on a fresh database: a ticket
# with 10,000 events appended over REST, then 50 steps of the ticket page to
# random versions, each timed from the step to the version's fields on
# screen, beside the plain ticketAsOf query for the same versions (budget
# p95 ≤ 200 ms). PostgreSQL: a private cluster (bench/lib.sh), or
# BENCH_DATABASE_SERVER (e.g. postgres://postgres@127.0.0.1:5432).
# The binary: TICKETERA_BIN, else target/release/ticketera, else the debug
# one (cargo build -p ticketera). web/dist is built when missing.
# SPA_TT_EVENTS, SPA_TT_STEPS, SPA_TT_CONCURRENCY tune it.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
. scripts/lib.sh
spa_bench_prepare
TEST_DATABASE_URL="$server" TICKETERA_BIN="$bin" node bench/spa-timetravel.mjs
