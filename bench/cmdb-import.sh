#!/usr/bin/env bash
# CMDB CSV import and a token-endpoint storm: a benchmark, not a test.
#
#   bash bench/cmdb-import.sh [rows, default 100000] [concurrent token requests, default 500]
#
# Uses TICKETERA_BIN, else target/release/ticketera when it exists (never
# built here), else the debug build (cargo build -p ticketera; its figures
# are slower than a release's). Starts `ticketera serve` on a fresh database
# of the PostgreSQL of bench/lib.sh (a private cluster, or
# $BENCH_DATABASE_SERVER), then prints:
#
#   1. the seconds `POST /api/v1/admin/assets/import` takes for a CSV of
#      `rows` distinct hosts (target: 100,000 rows in a few seconds), and
#      the assets counted afterwards;
#   2. while `concurrent` password-grant token requests run at once (right
#      passwords of ten users: each a password hash; the server answers 503
#      with Retry-After when every hashing slot is taken; the login throttle,
#      which counts attempts from one address, is lifted for the run, else
#      it would refuse nearly all of them with 429 first), the latency of `/healthz` and of a normal user's
#      GraphQL request (`{ me { name } }`) during the storm, the storm's own
#      statuses and duration, and the server's peak RSS (VmHWM).
#
# Drops the database at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${1:-100000}"
concurrent="${2:-500}"

. bench/lib.sh
command -v psql >/dev/null 2>&1 || { say "psql not found: install postgresql-client"; exit 1; }
command -v curl >/dev/null 2>&1 || { say "curl not found"; exit 1; }
command -v python3 >/dev/null 2>&1 || { say "python3 not found"; exit 1; }

bench_binary
bench_server

work=$(mktemp -d /tmp/ticketera-bench-cmdb.XXXXXX)
db="bench_cmdb_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
server_pid=""
cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
    say "last lines of the server's log:"; tail -n 30 "$work/server.log" >&2 || true
  fi
  psql "$server/postgres" -Atqc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
  bench_cleanup
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql "$server/postgres" -Atqc "CREATE DATABASE \"$db\"" >/dev/null
port=$(bench_free_port)
base="http://127.0.0.1:$port"
admin_password="bench-admin-password-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
say "starting ticketera serve on $base (log: $work/server.log)"
DATABASE_URL="$server/$db" TICKETERA_HTTP_ADDR="127.0.0.1:$port" \
  TICKETERA_ADMIN_PASSWORD="$admin_password" RUST_LOG="${RUST_LOG:-warn}" \
  TICKETERA_LOGIN_MAX_FAILURES_PER_ADDRESS=1000000 TICKETERA_LOGIN_MAX_FAILURES_PER_ACCOUNT=1000000 \
  "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { say "the server exited"; exit 1; }
  sleep 0.2
done

token() {
  curl -fsS "$base/api/v1/auth/token" -d grant_type=password -d username="$1" \
    --data-urlencode password="$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
admin=$(token admin "$admin_password")

say "writing a CSV of $rows hosts"
python3 - "$rows" >"$work/assets.csv" <<'EOF'
import sys
rows = int(sys.argv[1])
out = ["network,hostname,owner,business_unit,criticality"]
for i in range(rows):
    out.append(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255},host-{i},team-{i % 50},IT,HIGH")
sys.stdout.write("\n".join(out) + "\n")
EOF
say "importing ($(wc -c <"$work/assets.csv") bytes)"
status=$(curl -sS -o "$work/import.json" -w '%{http_code} %{time_total}' \
  -H "authorization: Bearer $admin" -H 'content-type: text/csv' \
  --data-binary @"$work/assets.csv" "$base/api/v1/admin/assets/import")
count=$(psql "$server/$db" -Atqc 'SELECT count(*) FROM assets')
echo "cmdb import: $rows rows, HTTP ${status% *}, ${status#* } s, $count assets stored; answer: $(cat "$work/import.json")"

say "a user for the normal requests, then $concurrent concurrent token requests"
curl -fsS -o /dev/null "$base/api/v1/admin/users" -H "authorization: Bearer $admin" \
  -H 'content-type: application/json' \
  -d '{"username":"bench-analyst","password":"bench-analyst-password","role":"analyst"}'
analyst=$(token bench-analyst bench-analyst-password)
for i in $(seq 0 9); do
  curl -fsS -o /dev/null "$base/api/v1/admin/users" -H "authorization: Bearer $admin" \
    -H 'content-type: application/json' \
    -d "{\"username\":\"storm-$i\",\"password\":\"bench-storm-password\",\"role\":\"analyst\"}"
done
python3 - "$base" "$analyst" "$concurrent" "$server_pid" <<'EOF'
import json, sys, threading, time, urllib.error, urllib.parse, urllib.request
base, token, concurrent, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def call(req):
    t = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        code = e.code
    except Exception:
        code = 0
    return code, time.monotonic() - t

def token_request(results, i):
    # Right passwords: each a full password hash (wrong ones would only
    # measure the login throttle, which refuses them after a few).
    body = urllib.parse.urlencode({"grant_type": "password", "username": f"storm-{i % 10}",
                                   "password": "bench-storm-password"}).encode()
    results.append(call(urllib.request.Request(base + "/api/v1/auth/token", data=body)))

def rss_peak():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return line.split(":")[1].strip()
    return "?"

storm = []
threads = [threading.Thread(target=token_request, args=(storm, i)) for i in range(concurrent)]
start = time.monotonic()
for t in threads:
    t.start()
health, me = [], []
while any(t.is_alive() for t in threads):
    health.append(call(urllib.request.Request(base + "/healthz")))
    gql = urllib.request.Request(base + "/graphql", data=json.dumps({"query": "{ me { name } }"}).encode(),
                                 headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    me.append(call(gql))
    time.sleep(0.05)
for t in threads:
    t.join()
took = time.monotonic() - start

def summary(name, xs):
    if not xs:
        return f"{name}: no sample"
    lat = sorted(x[1] * 1000 for x in xs)
    codes = {}
    for c, _ in xs:
        codes[c] = codes.get(c, 0) + 1
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    return f"{name}: {len(xs)} requests, statuses {codes}, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {lat[-1]:.1f} ms"

print(f"token storm: {concurrent} concurrent requests in {took:.1f} s")
print(summary("  token requests", storm))
print(summary("  /healthz during the storm", health))
print(summary("  a normal user's GraphQL during the storm", me))
print(f"  server peak RSS (VmHWM): {rss_peak()}")
EOF
