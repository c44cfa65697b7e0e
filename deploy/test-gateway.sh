#!/usr/bin/env bash
# Validates deploy/ with what runs here (no Docker engine): nginx -t on the
# rendered gateway config, promtool on the Prometheus config and alerts, the
# Grafana dashboard and Kubernetes manifests parse; then a real nginx in front
# of a real `ticketera serve` (TLS, gzip, routing, /metrics kept inside).
#
# usage: deploy/test-gateway.sh <path to the ticketera binary>
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bin=${1:-target/debug/ticketera}
server=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
passed=0
failed=0
check() { # check NAME COMMAND...
  if "${@:2}" >/dev/null 2>&1; then
    passed=$((passed + 1)); echo "ok - $1"
  else
    failed=$((failed + 1)); echo "FAILED - $1"
  fi
}

apt_install nginx libnginx-mod-stream prometheus gettext-base openssl curl

work=$(mktemp -d /tmp/ticketera-gateway.XXXXXX)
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  [ -n "${db:-}" ] && psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# Prometheus and Grafana.
sed 's|/etc/prometheus/alerts.yml|alerts.yml|' deploy/prometheus/prometheus.yml > deploy/prometheus/.check.yml
check "promtool check config" promtool check config deploy/prometheus/.check.yml
rm -f deploy/prometheus/.check.yml
check "promtool check rules" promtool check rules deploy/prometheus/alerts.yml
check "grafana dashboard is JSON" python3 -c 'import json,sys; d=json.load(open("deploy/grafana/dashboards/ticketera.json")); assert d["panels"]'
if python3 -c 'import yaml' 2>/dev/null; then
  check "kubernetes manifests parse" python3 -c 'import yaml; assert len(list(yaml.safe_load_all(open("deploy/k8s/ticketera.yaml")))) > 5'
  check "docker-compose parses" python3 -c 'import yaml; d=yaml.safe_load(open("deploy/docker-compose.yml")); assert "gateway" in d["services"]'
fi

# A running ticketera behind the gateway: every upstream is the same process.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app_port=$(port); https_port=$(port); http_port=$(port); syslog_port=$(port)
db="ticketera_gateway_$(date +%s%N)"
psql -q "$server/postgres" -c "CREATE DATABASE \"$db\"" >/dev/null
DATABASE_URL="$server/$db" TICKETERA_HTTP_ADDR="127.0.0.1:$app_port" TICKETERA_ADMIN_PASSWORD="gateway-admin-password" \
  TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$(port)" TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$(port)" RUST_LOG=warn \
  "$bin" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$app_port/readyz" >/dev/null && break; sleep 0.2; done

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
mkdir -p "$work/conf.d" "$work/stream-conf.d" "$work/logs"
export COMMAND_API_UPSTREAM="127.0.0.1:$app_port" QUERY_API_UPSTREAM="127.0.0.1:$app_port" INGEST_UPSTREAM="127.0.0.1:$app_port" \
  INGEST_SYSLOG_UPSTREAM="127.0.0.1:$syslog_port" TLS_CERT="$work/tls.crt" TLS_KEY="$work/tls.key" \
  HTTP_PORT="$http_port" HTTPS_PORT="$https_port" SYSLOG_PORT="$(port)"
vars='${COMMAND_API_UPSTREAM} ${QUERY_API_UPSTREAM} ${INGEST_UPSTREAM} ${INGEST_SYSLOG_UPSTREAM} ${TLS_CERT} ${TLS_KEY} ${HTTP_PORT} ${HTTPS_PORT} ${SYSLOG_PORT}'
envsubst "$vars" < deploy/nginx/templates/gateway.conf.template > "$work/conf.d/gateway.conf"
envsubst "$vars" < deploy/nginx/templates/syslog.stream-template > "$work/stream-conf.d/syslog.conf"
sed -e "s|/etc/nginx/conf.d|$work/conf.d|; s|/etc/nginx/stream-conf.d|$work/stream-conf.d|; s|pid /tmp/nginx.pid|pid $work/nginx.pid|" \
    -e "s|load_module modules/|load_module /usr/lib/nginx/modules/|; s|access_log /dev/stdout|access_log $work/logs/access.log|" \
    deploy/nginx/nginx.conf > "$work/nginx.conf"
check "nginx -t on the rendered gateway" nginx -t -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" -g "user $(id -un);" 2>/dev/null
sleep 0.5

gw="https://127.0.0.1:$https_port"
c() { curl -sk --max-time 5 "$@"; }
check "gateway serves /healthz over TLS" test "$(c -o /dev/null -w '%{http_code}' "$gw/healthz")" = 200
check "plain HTTP redirects to HTTPS" test "$(c -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/healthz")" = 301
check "gateway keeps /metrics inside" test "$(c -o /dev/null -w '%{http_code}' "$gw/metrics")" = 404
check "the service still exposes /metrics" test "$(c -o /dev/null -w '%{http_code}' "http://127.0.0.1:$app_port/metrics")" = 200
check "gzip on JSON" bash -c "curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' '$gw/api/openapi.json' | grep -qi '^content-encoding: gzip'"
token=$(c -d grant_type=password -d username=admin -d password=gateway-admin-password "$gw/api/v1/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
check "token endpoint through the gateway" test -n "$token"
opened=$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"title":"through the gateway"}' "$gw/api/v1/tickets")
check "commands through the gateway" test "$opened" = 201
check "the edge request id reaches the event metadata" bash -c \
  "psql -Atq '$server/$db' -c \"select metadata->>'correlation_id' from events limit 1\" | grep -Eq '^[0-9a-f]{32}$'"
check "webhook path routes to ingest" bash -c "test \"\$(curl -sk -o /dev/null -w '%{http_code}' -X POST '$gw/api/v1/integrations/webhook')\" != 502"

echo "gateway: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
