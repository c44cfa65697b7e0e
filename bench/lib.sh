# Shared by the bench/*.sh scripts (sourced, not run).
#
# bench_server: the PostgreSQL a benchmark runs on, in $server. Unless
# BENCH_DATABASE_SERVER names one, a private cluster of this machine's
# PostgreSQL is started for the run (and stopped by bench_cleanup): the
# event feed reads below the cluster-wide oldest running transaction
# (docs/architecture.md), so tests or other benchmarks on a shared cluster would
# show up in the latencies measured. The private cluster is a plain initdb
# (fsync and synchronous_commit on, no TLS on the loopback connections) with
# shared_buffers=256MB.

say() { printf '==> %s\n' "$*" >&2; }

bench_require_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  command -v cargo >/dev/null 2>&1 || { say "cargo not found: install the Rust toolchain (https://rustup.rs)"; exit 1; }
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bench_pg_stop=""
bench_pg_dir=""

bench_server() {
  if [ -n "${BENCH_DATABASE_SERVER:-}" ]; then
    server="${BENCH_DATABASE_SERVER%/}"
  else
    local pg_bin
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
      say "no PostgreSQL server binaries under /usr/lib/postgresql: install Debian's postgresql, or set BENCH_DATABASE_SERVER"
      exit 1
    fi
    bench_pg_dir=$(mktemp -d /tmp/ticketera-bench-pg.XXXXXX)
    chmod 755 "$bench_pg_dir"
    local runas=()
    # initdb and pg_ctl refuse to run as root.
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$bench_pg_dir"; runas=(runuser -u postgres --); fi
    local port
    port=$(bench_free_port)
    "${runas[@]}" "$pg_bin/initdb" -D "$bench_pg_dir/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
    "${runas[@]}" "$pg_bin/pg_ctl" -D "$bench_pg_dir/data" -l "$bench_pg_dir/log" -w \
      -o "-p $port -k $bench_pg_dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
    bench_pg_stop="${runas[*]} $pg_bin/pg_ctl -D $bench_pg_dir/data -m fast stop"
    server="postgres://postgres@127.0.0.1:$port"
    say "private PostgreSQL cluster on port $port (set BENCH_DATABASE_SERVER to use another)"
  fi
  psql "$server/postgres" -Atqc 'select 1' >/dev/null 2>&1 || {
    say "no PostgreSQL reachable at $server (set BENCH_DATABASE_SERVER)"; exit 1; }
  say "PostgreSQL at $server: $(psql "$server/postgres" -Atqc 'show server_version') (shared_buffers=$(psql "$server/postgres" -Atqc 'show shared_buffers'), ssl=$(psql "$server/postgres" -Atqc 'show ssl'), synchronous_commit=$(psql "$server/postgres" -Atqc 'show synchronous_commit'))"
  say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Stops the private cluster, if bench_server started one.
bench_cleanup() {
  if [ -n "$bench_pg_stop" ]; then
    $bench_pg_stop >/dev/null 2>&1 || true
    rm -rf "$bench_pg_dir"
    bench_pg_stop=""
  fi
}

# Sets `bin`: TICKETERA_BIN, else target/release/ticketera when it exists
# (never built here), else the debug one (cargo build -p ticketera).
bench_binary() {
  local target_dir="${CARGO_TARGET_DIR:-target}"
  if [ -n "${TICKETERA_BIN:-}" ]; then
    bin="$TICKETERA_BIN"
  elif [ -x "$target_dir/release/ticketera" ]; then
    bin="$target_dir/release/ticketera"
  else
    bench_require_cargo
    say "no release binary: building and using the debug one (cargo build -p ticketera)"
    cargo build -q -p ticketera >&2
    bin="$target_dir/debug/ticketera"
  fi
  say "binary: $bin"
}

# The browser benchmarks (bench/spa*.sh): Node, Debian's Chromium, psql, the
# node tests' npm packages, web/dist, and `bin` (bench_binary). Then the
# PostgreSQL of bench_server, stopped on exit. Needs scripts/lib.sh sourced too.
spa_bench_prepare() {
  ensure_node
  ensure_chromium
  command -v psql >/dev/null 2>&1 || ensure_postgres_packages
  bench_binary
  [ -f web/dist/index.html ] || build_web
  npm_deps tests/node
  bench_server
  trap bench_cleanup EXIT
  ulimit -n 65536 2>/dev/null || true
}
