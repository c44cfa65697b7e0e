#!/usr/bin/env bash
# Query-side benchmark of Ticketera SOC: a benchmark, not a test.
#
#   bash bench/query-side.sh [extra query-side arguments, e.g. --phases list --tickets 200000]
#
# Builds `ticketera` and the `query-side` benchmark (release), creates a fresh
# database on a private PostgreSQL cluster (bench/lib.sh; or on
# $BENCH_DATABASE_SERVER when set),
# starts `ticketera serve` on it on a free port (command API, query API and
# projector in one process), and measures:
#   list      tickets(first: 50, filter: {status, severity}) over 1,000,000
#             tickets (written straight into the read model), p50/p99 over
#             HTTP beside the equivalent hand-written SQL in the same run;
#   delivery  command → subscription delivery at a steady 500 commands/s;
#   idle      10,000 idle WebSocket subscriptions: added server memory and
#             the time one event takes to reach all of them.
# Then stops the server (SIGTERM) and drops the database.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
bench_require_cargo
command -v psql >/dev/null 2>&1 || {
  say "psql missing: installing Debian's postgresql-client"
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client >&2
}
bench_server

# 10,000 WebSockets: two descriptors each side, and the server's listener.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
say "open files limit: $(ulimit -n)"

say "building ticketera and query-side (release)"
: no build
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir="${target_dir:-target}"

db="bench_q_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d /tmp/ticketera-qbench.XXXXXX)
server_pid=""
cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
    say "last lines of the server's log:"; tail -n 30 "$work/server.log" >&2 || true
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

port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { say "no free port found"; exit 1; }

admin_password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
say "starting ticketera serve on 127.0.0.1:$port (log: $work/server.log)"
DATABASE_URL="$server/$db" \
TICKETERA_HTTP_ADDR="127.0.0.1:$port" \
TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:0" \
TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:0" \
TICKETERA_ADMIN_PASSWORD="$admin_password" \
TICKETERA_DB_MAX_CONNECTIONS="${TICKETERA_DB_MAX_CONNECTIONS:-32}" \
TICKETERA_GRAPHQL_RATE_PER_MINUTE=0 \
RUST_LOG=warn \
  "$target_dir/release/ticketera" serve >"$work/server.log" 2>&1 &
server_pid=$!

say "running the benchmark (filling 1,000,000 tickets takes a few minutes the first time)"
"$target_dir/release/query-side" \
  --base-url "http://127.0.0.1:$port" \
  --database-url "$server/$db" \
  --server-pid "$server_pid" \
  --admin-password "$admin_password" \
  "$@"
