#!/usr/bin/env bash
# Monitoring proved against the running services: command-api, query-api,
# projector and ingest, each its own process on its own loopback port and one
# database; traffic through each (a login, a ticket, a GraphQL query, a
# syslog alert); then Debian's Prometheus with the shipped scrape config
# rewritten to loopback and the shipped alerts must see every target up, and
# every metric the alerts and the dashboard use must be in the services'
# /metrics. promtool checks the config and unit-tests every alert.
#
# usage: deploy/test-monitoring.sh <ticketera binary> <python with PyYAML>
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

bin=${1:-target/debug/ticketera}
py=${2:-python3}
server=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
passed=0
failed=0
check() { # check NAME COMMAND...: output shown on failure
  local out
  if out=$("${@:2}" 2>&1); then
    passed=$((passed + 1)); echo "ok - $1"
  else
    failed=$((failed + 1)); echo "FAILED - $1"; printf '%s\n' "$out" | sed 's/^/    /' | tail -n 30
  fi
}

apt_install prometheus curl

work=$(mktemp -d /tmp/ticketera-monitoring.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${db:-}" ] && psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# Static checks first: they need no process.
sed 's|/etc/prometheus/alerts.yml|alerts.yml|' deploy/prometheus/prometheus.yml > "$work/prometheus.yml"
cp deploy/prometheus/alerts.yml "$work/alerts.yml"
check "promtool check config (shipped scrape config)" promtool check config "$work/prometheus.yml"
check "promtool check rules" promtool check rules deploy/prometheus/alerts.yml
check "promtool test rules (alerts.test.yml)" bash -c "cd deploy/prometheus && promtool test rules alerts.test.yml"
check "every alert has a unit test that fires it" "$py" deploy/tools/monitoring.py covered deploy/prometheus/alerts.yml deploy/prometheus/alerts.test.yml
check "the grafana dashboard is JSON with panels" "$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"]' deploy/grafana/dashboards/ticketera.json

# The four services, each its own process.
port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
db="ticketera_monitoring_$(date +%s%N)"
psql -q "$server/postgres" -c "CREATE DATABASE \"$db\"" >/dev/null
export DATABASE_URL="$server/$db" RUST_LOG=warn TICKETERA_ADMIN_PASSWORD=monitoring-admin-password
declare -A ports
# migrate first, so that the services do not race to create the schema.
"$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
syslog_port=$(port)
for svc in command-api query-api projector ingest; do
  ports[$svc]=$(port)
  extra=()
  [ "$svc" = ingest ] && extra=(TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$syslog_port" TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$syslog_port")
  env TICKETERA_HTTP_ADDR="127.0.0.1:${ports[$svc]}" "${extra[@]}" "$bin" $svc >"$work/$svc.log" 2>&1 &
  pids+=($!)
done
for svc in command-api query-api projector ingest; do
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:${ports[$svc]}/readyz" >/dev/null && break; sleep 0.2; done
  check "$svc is ready on its own port (${ports[$svc]}), ticketera-healthcheck agrees" \
    env TICKETERA_HTTP_ADDR="127.0.0.1:${ports[$svc]}" deploy/healthcheck.sh /readyz
done

# Traffic through each, so that the request-driven series exist.
c="http://127.0.0.1:${ports[command-api]}"
token=$(curl -s -d grant_type=password -d username=admin -d password=monitoring-admin-password "$c/api/v1/auth/token" \
  | "$py" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
check "a login on command-api" test -n "$token"
check "a ticket opened on command-api" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"title":"monitoring","severity":"HIGH"}' "$c/api/v1/tickets")" = 201
check "a GraphQL query on query-api" bash -c "curl -s -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' \
  -d '{\"query\":\"{ tickets(first: 5) { totalCount } }\"}' http://127.0.0.1:${ports[query-api]}/graphql | grep -q totalCount"
head -n 1 ingest/tests/samples/fortigate.log > "$work/alert.log"
"$py" - "$syslog_port" "$work/alert.log" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(open(sys.argv[2], "rb").read().rstrip(b"\n"), ("127.0.0.1", int(sys.argv[1])))
PY
check "a syslog alert received by ingest" bash -c "for _ in \$(seq 1 50); do curl -s http://127.0.0.1:${ports[ingest]}/metrics | grep -q '^ticketera_ingest_alerts_total [1-9]' && exit 0; sleep 0.2; done; exit 1"

# Prometheus: the shipped config, its service discovery rewritten to loopback.
prom_port=$(port)
"$py" deploy/tools/monitoring.py loopback deploy/prometheus/prometheus.yml "$work/loopback.yml" "$work/alerts.yml" \
  "command-api=127.0.0.1:${ports[command-api]}" "query-api=127.0.0.1:${ports[query-api]}" \
  "projector=127.0.0.1:${ports[projector]}" "ingest=127.0.0.1:${ports[ingest]}"
check "promtool check config (rewritten to loopback)" promtool check config "$work/loopback.yml"
prometheus --config.file="$work/loopback.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1"
for _ in $(seq 1 100); do
  curl -fs "$api/targets?state=active" -o "$work/targets.json" 2>/dev/null \
    && "$py" deploy/tools/monitoring.py targets "$work/targets.json" command-api query-api projector ingest >/dev/null 2>&1 && break
  sleep 0.3
done
check "prometheus sees every target up" "$py" deploy/tools/monitoring.py targets "$work/targets.json" command-api query-api projector ingest
"$py" deploy/tools/monitoring.py targets "$work/targets.json" command-api query-api projector ingest
check "up == 1 for the four jobs" bash -c "curl -fs '$api/query?query=count(up%7Bjob%3D~%22command-api%7Cquery-api%7Cprojector%7Cingest%22%7D%3D%3D1)' | grep -q '\"4\"'"
check "prometheus loaded the alert rules" bash -c "curl -fs '$api/rules' | grep -q TicketeraDown"
check "the projector exports a leader per projection" bash -c \
  "for _ in \$(seq 1 50); do curl -fs '$api/query?query=sum(ticketera_projector_leader)' | grep -q '\"2\"' && exit 0; sleep 0.3; done; exit 1"
for svc in command-api query-api projector ingest; do
  curl -fs "http://127.0.0.1:${ports[$svc]}/metrics" > "$work/$svc.metrics"
done
check "every metric in the alerts and the dashboard is exported by a running service" \
  "$py" deploy/tools/monitoring.py names deploy/prometheus/alerts.yml deploy/grafana/dashboards/ticketera.json \
  "$work/command-api.metrics" "$work/query-api.metrics" "$work/projector.metrics" "$work/ingest.metrics"
"$py" deploy/tools/monitoring.py names deploy/prometheus/alerts.yml deploy/grafana/dashboards/ticketera.json \
  "$work/command-api.metrics" "$work/query-api.metrics" "$work/projector.metrics" "$work/ingest.metrics" 2>&1 | sed 's/^/  /'

echo "monitoring: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
