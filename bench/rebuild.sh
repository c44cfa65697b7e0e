#!/usr/bin/env bash
# Projector rebuild speed: a benchmark, not a test.
#
#   bash bench/rebuild.sh [extra arguments of bench/src/bin/rebuild.rs, e.g. --tickets 10000]
#
# Builds the `rebuild` benchmark binary (release), creates a fresh database
# bench_rebuild_<random> on a private PostgreSQL cluster (bench/lib.sh; or
# on $BENCH_DATABASE_SERVER when set), writes 1,000,000 synthetic events into
# it with SQL (100,000 tickets of ten events, interleaved as in a live SOC),
# then prints, in one run: the rate of a plain SELECT of those rows, the rate
# of the feed read and decoded as a rebuild reads it, and each projection's
# rebuild rate in events projected per second with its ratio to the plain
# read (target: at least 0.25). Drops the database at the end.
#
# The figures depend on the machine: run it on a quiet one (the rebuild is
# bound by the cores Postgres and the projector share).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
bench_require_cargo
command -v psql >/dev/null 2>&1 || { say "psql not found: install postgresql-client"; exit 1; }
bench_server

if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
  dirty=""
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=" (plus uncommitted changes)"
  say "source: commit $(git rev-parse --short HEAD)$dirty"
fi
say "building the rebuild benchmark (release)"
# The same package set as the other benchmarks: one feature resolution, one build.
cargo build --release -p ticketera -p ticketera-bench >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir="${target_dir:-target}"

db="bench_rebuild_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
cleanup() {
  status=$?
  say "dropping database $db"
  psql "$server/postgres" -Atqc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  bench_cleanup
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "creating database $db on $server"
psql "$server/postgres" -Atqc "CREATE DATABASE \"$db\"" >/dev/null

say "running the benchmark (writing the events takes a minute or two, the rest a few minutes)"
# BENCH_SSLMODE=disable measures without TLS on the connections (both the
# plain read and the rebuild); unset, the driver's default (prefer) applies.
url="$server/$db"
[ -z "${BENCH_SSLMODE:-}" ] || url="$url?sslmode=$BENCH_SSLMODE"
RUST_LOG="${RUST_LOG:-warn,projector=info}" \
  "$target_dir/release/rebuild" --database-url "$url" "$@"
