#!/usr/bin/env bash
# The nginx gateway of deploy/nginx, rendered as the nginx image renders it
# (envsubst on the templates) and checked with `nginx -t`, then run for real
# with TLS in front of the real services, each its own process as in
# compose: command-api, query-api and ingest. Every route is checked to reach
# the process it should (that process's own /metrics counts the request), and
# the plain-HTTP redirect, the container health check, gzip, /metrics kept
# inside, the edge request id, and the SPA through the gateway (index.html
# with its CSP, history fallback, hashed assets cached for good).
# (Compose, Kubernetes and Prometheus: deploy/test.sh.)
#
# usage: deploy/test-gateway.sh <path to the ticketera binary>
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
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
pids=()
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${db:-}" ] && psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# The SPA as web/ builds it (web/dist: index.html and assets/); a stand-in
# with the same layout when it has not been built.
mkdir -p "$work/conf.d" "$work/logs" "$work/web/assets"
if [ -f web/dist/index.html ] && ls web/dist/assets/*.js >/dev/null 2>&1; then
  cp -r web/dist/. "$work/web/"
else
  printf '<!doctype html><title>Ticketera SOC</title><script type="module" src="/assets/app-0123abcd.js"></script>\n' > "$work/web/index.html"
  printf 'console.log("ticketera %s");\n' "$(head -c 600 /dev/zero | tr '\0' x)" > "$work/web/assets/app-0123abcd.js"
fi
asset=$(cd "$work/web" && ls assets/*.js | head -n 1)

# The services, each its own process on its own port, one database.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
https_port=$(port); http_port=$(port)
db="ticketera_gateway_$(date +%s%N)"
psql -q "$server/postgres" -c "CREATE DATABASE \"$db\"" >/dev/null
export DATABASE_URL="$server/$db" TICKETERA_ADMIN_PASSWORD="gateway-admin-password" RUST_LOG=warn TICKETERA_WEB_DIR="$work/web" TICKETERA_TRUSTED_PROXIES=127.0.0.1/32
"$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
declare -A ports
for svc in command-api query-api ingest; do
  ports[$svc]=$(port)
  TICKETERA_HTTP_ADDR="127.0.0.1:${ports[$svc]}" TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$(port)" TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$(port)" \
    "$bin" "$svc" >"$work/$svc.log" 2>&1 &
  pids+=($!)
done
for svc in command-api query-api ingest; do
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:${ports[$svc]}/readyz" >/dev/null && break; sleep 0.2; done
done

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
export COMMAND_API_UPSTREAM="127.0.0.1:${ports[command-api]}" QUERY_API_UPSTREAM="127.0.0.1:${ports[query-api]}" \
  INGEST_UPSTREAM="127.0.0.1:${ports[ingest]}" TLS_CERT="$work/tls.crt" TLS_KEY="$work/tls.key" \
  HTTP_PORT="$http_port" HTTPS_PORT="$https_port"
vars='${COMMAND_API_UPSTREAM} ${QUERY_API_UPSTREAM} ${INGEST_UPSTREAM} ${TLS_CERT} ${TLS_KEY} ${HTTP_PORT} ${HTTPS_PORT}'
check "every \${VAR} of the template is one this test renders and deploy/docker-compose.yml sets" bash -c \
  "for v in \$(grep -o '\${[A-Z_]*}' deploy/nginx/templates/gateway.conf.template | sort -u | tr -d '\${}'); do
     case ' $vars ' in *\"\\\${\$v}\"*) ;; *) exit 1;; esac; grep -q \"\$v:\" deploy/docker-compose.yml || exit 1; done"
envsubst "$vars" < deploy/nginx/templates/gateway.conf.template > "$work/conf.d/gateway.conf"
sed -e "s|/etc/nginx/conf.d|$work/conf.d|; s|pid /tmp/nginx.pid|pid $work/nginx.pid|" \
    -e "s|access_log /dev/stdout|access_log $work/logs/access.log|" \
    deploy/nginx/nginx.conf > "$work/nginx.conf"
check "nginx -t on the rendered gateway" nginx -t -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/logs/error.log" -g "user $(id -un);" 2>/dev/null
sleep 0.5

gw="https://127.0.0.1:$https_port"
c() { curl -sk --max-time 5 "$@"; }
# counted SERVICE ROUTE: the service's own /metrics counted a request on ROUTE.
counted() { curl -s "http://127.0.0.1:${ports[$1]}/metrics" | grep '^ticketera_http_requests_total{' | grep -q "route=\"$2\""; }
check "the container health check answers on plain HTTP" test "$(c "http://127.0.0.1:$http_port/gateway/healthz")" = ok
check "plain HTTP redirects to HTTPS" test "$(c -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/healthz")" = 301
check "gateway serves /healthz over TLS" test "$(c -o /dev/null -w '%{http_code}' "$gw/healthz")" = 200
check "gateway keeps /metrics inside" test "$(c -o /dev/null -w '%{http_code}' "$gw/metrics")" = 404
check "the services still expose /metrics" test "$(c -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ports[command-api]}/metrics")" = 200
check "gzip on JSON" bash -c "curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' '$gw/api/openapi.json' | grep -qi '^content-encoding: gzip'"
token=$(c -d grant_type=password -d username=admin -d password=gateway-admin-password "$gw/api/v1/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
check "token endpoint through the gateway" test -n "$token"
opened=$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"title":"through the gateway"}' "$gw/api/v1/tickets")
check "commands through the gateway" test "$opened" = 201
check "/api/ reached command-api (its own metrics counted POST /api/v1/tickets)" counted command-api /api/v1/tickets
check "the edge request id reaches the event metadata" bash -c \
  "psql -Atq '$server/$db' -c \"select metadata->>'correlation_id' from events limit 1\" | grep -Eq '^[0-9a-f]{32}$'"
webhook=$(c -o /dev/null -w '%{http_code}' -X POST "$gw/api/v1/integrations/webhook")
check "webhook path answered by a service (not 502)" test "$webhook" != 502
check "/api/v1/integrations/ reached ingest (its own metrics counted the webhook)" counted ingest /api/v1/integrations/webhook
gql=$(c -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"query":"{ tickets(first: 5) { totalCount } }"}' "$gw/graphql")
check "GraphQL through the gateway" bash -c "grep -q totalCount <<<'$gql'"
check "/graphql reached query-api (its own metrics counted it)" counted query-api /graphql
check "the SPA's index.html at /" bash -c "curl -sk '$gw/' | grep -q '/assets/'"
check "index.html comes with its CSP and no framing" bash -c \
  "h=\$(curl -sk -D - -o /dev/null '$gw/'); grep -qi \"^content-security-policy: default-src 'self'\" <<<\"\$h\" && grep -qi '^x-frame-options: DENY' <<<\"\$h\""
check "index.html is revalidated (Cache-Control: no-cache)" bash -c "curl -sk -D - -o /dev/null '$gw/' | grep -qi '^cache-control: no-cache'"
check "an SPA route falls back to index.html" bash -c "curl -sk '$gw/tickets/SOC-1' | grep -q '/assets/'"
check "hashed assets are cached for good" bash -c "curl -sk -D - -o /dev/null '$gw/$asset' | grep -qi '^cache-control: public, max-age=31536000, immutable'"
check "assets are gzipped" bash -c "curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' '$gw/$asset' | grep -qi '^content-encoding: gzip'"
check "a missing asset is a 404, not index.html" test "$(c -o /dev/null -w '%{http_code}' "$gw/assets/missing-0000.js")" = 404
check "an unknown API path is a 404, not the SPA" test "$(c -o /dev/null -w '%{http_code}' "$gw/api/v1/no-such-route")" = 404
check "the SPA came from query-api (its own metrics counted /assets/)" counted query-api '/assets/{\*path}'

echo "gateway: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
