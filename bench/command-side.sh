#!/usr/bin/env bash
# Command-side benchmark of Ticketera SOC: a benchmark, not a test.
#
#   bash bench/command-side.sh [extra ticketera-bench arguments, e.g. --duration 30]
#
# Builds `ticketera` and `ticketera-bench` (one release build), creates a fresh
# database bench_<random> on $BENCH_DATABASE_SERVER (default
# postgres://postgres@127.0.0.1:5432, a superuser: the benchmark issues
# CHECKPOINT), starts `ticketera serve` on it on a free port, and runs the
# benchmark, which waits for /readyz, measures and prints every figure and
# comparison (it runs pgbench itself, against the same database). Then stops
# the server (SIGTERM) and drops the database.
#
# Installs what is missing: pgbench and psql (Debian's postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

server="${BENCH_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
server="${server%/}"

# --- what it needs ----------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 || { say "cargo not found: install the Rust toolchain (https://rustup.rs)"; exit 1; }
if ! command -v pgbench >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  say "pgbench or psql missing: installing Debian's postgresql-client"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client >&2
fi
pgbench_bin=$(command -v pgbench)
say "using $pgbench_bin ($("$pgbench_bin" --version))"

psql "$server/postgres" -Atqc 'select 1' >/dev/null 2>&1 || {
  say "no PostgreSQL reachable at $server (set BENCH_DATABASE_SERVER)"; exit 1; }

# --- build ------------------------------------------------------------------
if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
  dirty=""
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=" (plus uncommitted changes)"
  say "source: commit $(git rev-parse --short HEAD)$dirty"
fi
say "PostgreSQL at $server: $(psql "$server/postgres" -Atqc 'show server_version') (ssl=$(psql "$server/postgres" -Atqc 'show ssl'), synchronous_commit=$(psql "$server/postgres" -Atqc 'show synchronous_commit'))"
say "building ticketera and ticketera-bench (release)"
cargo build --release -p ticketera -p ticketera-bench >&2
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
target_dir="${target_dir:-target}"

# --- database, port, server -------------------------------------------------
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
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "creating database $db on $server"
psql "$server/postgres" -Atqc "CREATE DATABASE \"$db\"" >/dev/null

# A free port: nothing answers on it.
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
TICKETERA_ADMIN_PASSWORD="$admin_password" \
RUST_LOG=warn \
  "$target_dir/release/ticketera" serve >"$work/server.log" 2>&1 &
server_pid=$!

say "running the benchmark (it waits for /readyz first; about 1 minute)"
"$target_dir/release/ticketera-bench" \
  --base-url "http://127.0.0.1:$port" \
  --database-url "$server/$db" \
  --server-pid "$server_pid" \
  --admin-password "$admin_password" \
  --pgbench "$pgbench_bin" \
  "$@"
