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
bench_require_cargo
ensure_node
ensure_chromium
command -v psql >/dev/null 2>&1 || ensure_postgres_packages

target_dir="${CARGO_TARGET_DIR:-target}"
if [ -n "${TICKETERA_BIN:-}" ]; then
  bin="$TICKETERA_BIN"
elif [ -x "$target_dir/release/ticketera" ]; then
  bin="$target_dir/release/ticketera"
else
  say "no release binary: building and using the debug one (cargo build -p ticketera)"
  cargo build -q -p ticketera >&2
  bin="$target_dir/debug/ticketera"
fi
say "binary: $bin"
[ -f web/dist/index.html ] || build_web
npm_deps tests/node

bench_server
trap bench_cleanup EXIT
ulimit -n 65536 2>/dev/null || true
TEST_DATABASE_URL="$server" TICKETERA_BIN="$bin" node bench/spa.mjs
