#!/usr/bin/env bash
# The leads' dashboard benchmark of Ticketera SOC: a benchmark, not a test.
#
#   bash bench/spa-dashboard.sh
#
# Runs bench/spa-dashboard.mjs (Playwright through playwright-core, Debian's
# /usr/bin/chromium) against `ticketera serve` on a fresh database of a
# private PostgreSQL cluster (bench/lib.sh; or $BENCH_DATABASE_SERVER) with
# 100,000 tickets written straight into the event store and projected by the
# server, and prints the dashboard's first render (navigation start → every
# chart drawn; budget 1 s) beside a static page of the same server and the
# plain `stats` GraphQL query, from the same run.
# The binary: TICKETERA_BIN, else target/release/ticketera when it exists
# (this script never builds a release), else target/debug/ticketera
# (cargo build -p ticketera). web/dist is built when missing.
# DASH_BENCH_TICKETS (100000) and DASH_BENCH_RUNS (7) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
. scripts/lib.sh
spa_bench_prepare
TEST_DATABASE_URL="$server" TICKETERA_BIN="$bin" node bench/spa-dashboard.mjs
