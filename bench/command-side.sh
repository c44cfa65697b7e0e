#!/usr/bin/env bash
# Command-side benchmark of Ticketera SOC: a benchmark, not a test.
#
#   bash bench/command-side.sh [extra ticketera-bench arguments, e.g. --duration 30]
#
# Builds `ticketera` and `ticketera-bench` (one release build), creates a fresh
# database bench_<random> on a private PostgreSQL cluster (bench/lib.sh; or on
# $BENCH_DATABASE_SERVER when set, a superuser: the benchmark issues
# CHECKPOINT), starts `ticketera serve` on it on a free port (command API,
# query API and projector in one process, logging at its default level), and
# runs the benchmark, which waits for /readyz, measures and prints every
# figure and comparison. It runs pgbench itself, against the same database,
# with the same client count and duration as the HTTP run, and only once the
# projector has caught up with every ticket opened before (so pgbench does
# not share the machine with the projector's backlog). Then stops the server
# (SIGTERM), drops the database and stops the private cluster.
#
# Installs what is missing: pgbench and psql (Debian's postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
bench_require_cargo
if ! command -v pgbench >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  say "pgbench or psql missing: installing Debian's postgresql-client"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client >&2
fi
pgbench_bin=$(command -v pgbench)
say "using $pgbench_bin ($("$pgbench_bin" --version))"

if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
  dirty=""
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=" (plus uncommitted changes)"
  say "source: commit $(git rev-parse --short HEAD)$dirty"
fi
say "building ticketera and ticketera-bench (release)"
cargo build --release -p ticketera -p ticketera-bench >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir="${target_dir:-target}"

# After the build: a private cluster started before it would sit idle for minutes.
bench_server

db="bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d /tmp/ticketera-bench.XXXXXX)
server_pid=""

cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping the server (SIGTERM to pid $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "the server did not stop within 10 s: SIGKILL"
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
    say "last lines of the server's log:"
    tail -n 30 "$work/server.log" >&2 || true
  fi
  say "dropping database $db"
  psql "$server/postgres" -Atqc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
  bench_cleanup
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "creating database $db on $server"
psql "$server/postgres" -Atqc "CREATE DATABASE \"$db\"" >/dev/null

port=$(bench_free_port)
admin_password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
say "starting ticketera serve on 127.0.0.1:$port (log: $work/server.log)"
# The server's own log level (info unless RUST_LOG says otherwise), as deployed:
# its log line per command is part of what a command costs.
DATABASE_URL="$server/$db" \
TICKETERA_HTTP_ADDR="127.0.0.1:$port" \
TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:0" \
TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:0" \
TICKETERA_ADMIN_PASSWORD="$admin_password" \
  "$target_dir/release/ticketera" serve >"$work/server.log" 2>&1 &
server_pid=$!

say "running the benchmark (it waits for /readyz first; about 2 minutes)"
"$target_dir/release/ticketera-bench" \
  --base-url "http://127.0.0.1:$port" \
  --database-url "$server/$db" \
  --server-pid "$server_pid" \
  --admin-password "$admin_password" \
  --pgbench "$pgbench_bin" \
  "$@"
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
