#!/usr/bin/env bash
# The nginx gateway of deploy/nginx, rendered as the nginx image renders it
# (envsubst on the templates) and checked with `nginx -t`, then run for real
# with TLS in front of the real services, each its own process as in
# compose: command-api, query-api and ingest. Every route is checked to reach
# the process it should (that process's own /metrics counts the request, and
# the others' do not), and the plain-HTTP redirect, the container health
# check, gzip, /metrics kept inside, the edge request id, the SPA through the
# gateway (index.html with its CSP, history fallback, hashed assets cached
# for good), the policy headers on every kind of answer (HSTS with
# includeSubDomains, one CSP, no framing, Permissions-Policy), the rate limits
# (429) on the token endpoint and /graphql, and, when web/dist is built and
# tests/node has its modules, the SPA, GraphiQL and Swagger UI rendered in
# Chromium through the gateway without a CSP violation.
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
# edge_headers PATH [CURL ARGS...]: the gateway's policy headers on that
# answer, each exactly once (a service's own and the gateway's never both).
edge_headers() {
  local p=$1 h
  shift
  h=$(curl -sk --max-time 5 -D - -o /dev/null "$@" "$gw$p" | tr -d '\r')
  one() { [ "$(grep -ci "^$1:" <<<"$h")" = 1 ] && grep -qi "^$1: .*$2" <<<"$h"; }
  one strict-transport-security 'max-age=31536000; includeSubDomains' && one content-security-policy "frame-ancestors 'none'" \
    && one x-frame-options DENY && one x-content-type-options nosniff && one referrer-policy no-referrer \
    && one permissions-policy 'camera=(), .*geolocation=(), .*microphone=()'
}
# csp_of URL [CURL ARGS...]: the answer's Content-Security-Policy.
csp_of() { local u=$1; shift; curl -sk --max-time 5 -D - -o /dev/null "$@" "$u" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p'; }
check "the container health check answers on plain HTTP" test "$(c "http://127.0.0.1:$http_port/gateway/healthz")" = ok
check "plain HTTP redirects to HTTPS" test "$(c -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/healthz")" = 301
check "gateway serves /healthz over TLS" test "$(c -o /dev/null -w '%{http_code}' "$gw/healthz")" = 200
check "gateway keeps /metrics inside" test "$(c -o /dev/null -w '%{http_code}' "$gw/metrics")" = 404
check "the services still expose /metrics" test "$(c -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ports[command-api]}/metrics")" = 200
check "gzip on JSON" bash -c "curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' '$gw/api/openapi.json' | grep -qi '^content-encoding: gzip'"
token=$(c -d grant_type=password -d username=admin -d password=gateway-admin-password "$gw/api/v1/auth/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
check "token endpoint through the gateway" test -n "$token"
check "/api/v1/auth/token reached command-api, not query-api" bash -c \
  "$(declare -f counted); $(declare -p ports); counted command-api /api/v1/auth/token && ! counted query-api /api/v1/auth/token"
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
check "/graphql reached query-api, not command-api" bash -c \
  "$(declare -f counted); $(declare -p ports); counted query-api /graphql && ! counted command-api /graphql"
ws=$(c --http1.1 -o /dev/null -w '%{http_code}' --max-time 2 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Protocol: graphql-transport-ws' "$gw/graphql/ws")
check "WebSocket upgrade on /graphql/ws through the gateway (101)" test "$ws" = 101
check "/graphql/ws reached query-api, not command-api" bash -c \
  "$(declare -f counted); $(declare -p ports); counted query-api /graphql/ws && ! counted command-api /graphql/ws"
c -o /dev/null "$gw/healthz"
check "/healthz reached command-api, not query-api" bash -c \
  "$(declare -f counted); $(declare -p ports); counted command-api /healthz && ! counted query-api /healthz"
check "the SPA's index.html at /" bash -c "curl -sk '$gw/' | grep -q '/assets/'"
check "index.html comes with its CSP and no framing" bash -c \
  "h=\$(curl -sk -D - -o /dev/null '$gw/'); grep -qi \"^content-security-policy: default-src 'self'\" <<<\"\$h\" && grep -qi '^x-frame-options: DENY' <<<\"\$h\""
check "index.html is revalidated (Cache-Control: no-cache)" bash -c "curl -sk -D - -o /dev/null '$gw/' | grep -qi '^cache-control: no-cache'"
check "an SPA route falls back to index.html" bash -c "curl -sk '$gw/tickets/SOC-1' | grep -q '/assets/'"
check "hashed assets are cached for good" bash -c "curl -sk -D - -o /dev/null '$gw/$asset' | grep -qi '^cache-control: public, max-age=31536000, immutable'"
check "assets are gzipped" bash -c "curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' '$gw/$asset' | grep -qi '^content-encoding: gzip'"
check "a missing asset is a 404, not index.html" test "$(c -o /dev/null -w '%{http_code}' "$gw/assets/missing-0000.js")" = 404
check "an unknown API path is a 404, not the SPA" test "$(c -o /dev/null -w '%{http_code}' "$gw/api/v1/no-such-route")" = 404
check "the SPA came from query-api, not command-api (their own metrics counted /assets/)" bash -c \
  "$(declare -f counted); $(declare -p ports); counted query-api '/assets/{\\*path}' && ! counted command-api '/assets/{\\*path}'"

# The policy headers: on the SPA, on every kind of API answer, on the
# gateway's own answers (404, 429).
check "policy headers on the SPA's index.html (/)" edge_headers /
check "policy headers on an SPA route and an asset" bash -c "$(declare -f edge_headers); gw='$gw'; edge_headers /tickets/SOC-1 && edge_headers '/$asset'"
check "policy headers on a REST answer and a REST 404" bash -c "$(declare -f edge_headers); gw='$gw'; edge_headers /api/openapi.json && edge_headers /api/v1/no-such-route"
check "policy headers on a GraphQL answer" edge_headers /graphql -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}'
check "policy headers on GraphiQL's page, the token endpoint, the webhook, /healthz and the gateway's /metrics 404" bash -c \
  "$(declare -f edge_headers); gw='$gw'; edge_headers /graphql -H 'Accept: text/html' && edge_headers /api/v1/auth/token -d grant_type=password \
   && edge_headers /api/v1/integrations/webhook -X POST && edge_headers /healthz && edge_headers /metrics"
check "the SPA's policy is the service's own (one source: platform/src/http/static_files.rs)" bash -c \
  "$(declare -f csp_of); a=\$(csp_of '$gw/'); b=\$(csp_of 'http://127.0.0.1:${ports[query-api]}/'); [ -n \"\$a\" ] && [ \"\$a\" = \"\$b\" ] && grep -q \"script-src 'self';\" <<<\"\$a\""
check "API answers load nothing (CSP default-src 'none')" bash -c \
  "$(declare -f csp_of); csp_of '$gw/api/openapi.json' | grep -q \"^default-src 'none'\""
check "GraphiQL's page: scripts and workers from this origin only, no inline script" bash -c \
  "$(declare -f csp_of); p=\$(csp_of '$gw/graphql' -H 'Accept: text/html'); grep -q \"script-src 'self';\" <<<\"\$p\" && grep -q \"worker-src 'self' blob:\" <<<\"\$p\" && grep -q \"connect-src 'self'\" <<<\"\$p\""
c -o "$work/docs.html" "$gw/api/docs"
check "Swagger UI's inline script is the one the CSP allows by hash" bash -c \
  "$(declare -f csp_of); p=\$(csp_of '$gw/api/docs'); h=\$(python3 deploy/tools/csp_hashes.py < '$work/docs.html'); [ -n \"\$h\" ] && for x in \$h; do grep -qF \"'\$x'\" <<<\"\$p\" || exit 1; done"

# The pages in a browser through the gateway, under its headers.
if [ -f web/dist/index.html ] && [ -f web/dist/graphiql/index.html ] && [ -d tests/node/node_modules/playwright-core ]; then
  apt_install chromium
  if out=$(node deploy/tools/gateway_browser.mjs "$gw" gateway-admin-password 2>&1); then
    passed=$((passed + 1)); echo "ok - the SPA (queue, ticket, dashboard), GraphiQL and Swagger UI render in Chromium through the gateway, no CSP violation"
  else
    failed=$((failed + 1)); echo "FAILED - the pages in Chromium through the gateway"; printf '%s\n' "$out" | sed 's/^/    /' | tail -n 20
  fi
else
  echo "skipped - the pages in Chromium (needs web/dist with graphiql, and tests/node/node_modules: npm ci in both)"
fi

# Rate limits, last (they spend this address's allowance): a burst past the
# token endpoint's and /graphql's limit gets the gateway's 429 problem.
burst() { # burst NAME URL-GLOB [CURL ARGS...]: parallel requests; "status content-type" of each in $work/NAME.status, bodies in $work/NAME/
  local name=$1 url=$2
  shift 2
  mkdir -p "$work/$name"
  c --no-progress-meter --parallel --parallel-max 50 -o "$work/$name/b_#1" -w '%{http_code} %{content_type}\n' "$@" "$gw$url" \
    > "$work/$name.status" 2>/dev/null
}
burst token '/api/v1/auth/token?n=[1-60]' -d grant_type=none
check "a burst at the token endpoint is cut at its limit with 429 (the first ones reached command-api: 400)" bash -c \
  "grep -q '^429 ' '$work/token.status' && grep -q '^400 ' '$work/token.status'"
check "the 429 is a problem (application/problem+json, code rate_limited) with the policy headers" bash -c \
  "$(declare -f edge_headers); gw='$gw'; grep -qx '429 application/problem+json' '$work/token.status' \
   && grep -l '\"code\":\"rate_limited\"' '$work'/token/b_* | grep -q . && edge_headers /api/v1/auth/token -d grant_type=none"
burst graphql '/graphql?query=%7B__typename%7D&n=[1-300]'
check "a burst at /graphql is cut at its limit with 429" grep -q '^429 ' "$work/graphql.status"
burst jwks '/api/v1/auth/jwks.json?n=[1-300]'
check "the rest of /api/ has no such limit" bash -c "grep -c '^200 ' '$work/jwks.status' | grep -qx 300"

echo "gateway: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
