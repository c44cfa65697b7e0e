#!/usr/bin/env bash
# The nginx gateway of deploy/nginx, rendered as the nginx image renders it
# (envsubst on the templates) and checked with `nginx -t`, then run for real
# in front of a real `ticketera serve`: TLS, the plain-HTTP redirect and the
# container health check, gzip, routing, /metrics kept inside, and the SPA
# served by the gateway itself (index.html, hashed assets, history fallback).
# (Prometheus, compose and Kubernetes: deploy/test.sh.)
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

apt_install nginx gettext-base openssl curl

work=$(mktemp -d /tmp/ticketera-gateway.XXXXXX)
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  [ -n "${db:-}" ] && psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# A running ticketera behind the gateway: every upstream is the same process.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app_port=$(port); https_port=$(port); http_port=$(port)
db="ticketera_gateway_$(date +%s%N)"
psql -q "$server/postgres" -c "CREATE DATABASE \"$db\"" >/dev/null
DATABASE_URL="$server/$db" TICKETERA_HTTP_ADDR="127.0.0.1:$app_port" TICKETERA_ADMIN_PASSWORD="gateway-admin-password" \
  TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$(port)" TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$(port)" RUST_LOG=warn \
  "$bin" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$app_port/readyz" >/dev/null && break; sleep 0.2; done

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
mkdir -p "$work/conf.d" "$work/logs" "$work/web/assets"
# The SPA as web/ builds it (web/dist: index.html and assets/); a stand-in
# with the same layout when it has not been built.
if [ -f web/dist/index.html ]; then
  cp -r web/dist/. "$work/web/"
else
  printf '<!doctype html><title>Ticketera SOC</title><script type="module" src="/assets/app-0123abcd.js"></script>\n' > "$work/web/index.html"
  printf 'console.log("ticketera");\n' > "$work/web/assets/app-0123abcd.js"
fi
asset=$(cd "$work/web" && ls assets/*.js | head -n 1)
export COMMAND_API_UPSTREAM="127.0.0.1:$app_port" QUERY_API_UPSTREAM="127.0.0.1:$app_port" INGEST_UPSTREAM="127.0.0.1:$app_port" \
  TLS_CERT="$work/tls.crt" TLS_KEY="$work/tls.key" HTTP_PORT="$http_port" HTTPS_PORT="$https_port" WEB_ROOT="$work/web"
vars='${COMMAND_API_UPSTREAM} ${QUERY_API_UPSTREAM} ${INGEST_UPSTREAM} ${TLS_CERT} ${TLS_KEY} ${HTTP_PORT} ${HTTPS_PORT} ${WEB_ROOT}'
envsubst "$vars" < deploy/nginx/templates/gateway.conf.template > "$work/conf.d/gateway.conf"
check "every \${VAR} of the template is set in deploy/docker-compose.yml or the gateway image" bash -c \
  "for v in \$(grep -o '\${[A-Z_]*}' deploy/nginx/templates/gateway.conf.template | sort -u | tr -d '\${}'); do grep -q \"\$v\" deploy/docker-compose.yml || exit 1; done"
sed -e "s|/etc/nginx/conf.d|$work/conf.d|; s|pid /tmp/nginx.pid|pid $work/nginx.pid|" \
    -e "s|access_log /dev/stdout|access_log $work/logs/access.log|" \
    deploy/nginx/nginx.conf > "$work/nginx.conf"
check "nginx -t on the rendered gateway" nginx -t -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" -g "user $(id -un);" 2>/dev/null
sleep 0.5

gw="https://127.0.0.1:$https_port"
c() { curl -sk --max-time 5 "$@"; }
check "the container health check answers on plain HTTP" test "$(c "http://127.0.0.1:$http_port/gateway/healthz")" = ok
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

check "the SPA's index.html at /" bash -c "curl -sk '$gw/' | grep -q '/assets/'"
check "index.html is revalidated (Cache-Control: no-cache)" bash -c "curl -sk -D - -o /dev/null '$gw/' | grep -qi '^cache-control: no-cache'"
check "an SPA route falls back to index.html" bash -c "curl -sk '$gw/tickets/SOC-1' | grep -q '/assets/'"
check "hashed assets are cached for good" bash -c "curl -sk -D - -o /dev/null '$gw/$asset' | grep -qi '^cache-control: public, max-age=31536000, immutable'"
check "a missing asset is a 404, not index.html" test "$(c -o /dev/null -w '%{http_code}' "$gw/assets/missing-0000.js")" = 404
check "the SPA pages keep the security headers" bash -c "curl -sk -D - -o /dev/null '$gw/' | grep -qi '^x-content-type-options: nosniff'"
check "/api/ still reaches command-api beside the SPA" test "$(c -o /dev/null -w '%{http_code}' "$gw/api/openapi.json")" = 200
check "/graphql still reaches query-api beside the SPA" test "$(c -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' "$gw/graphql")" != 404

echo "gateway: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
