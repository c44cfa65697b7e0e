#!/usr/bin/env bash
# Ingest benchmark of Ticketera SOC: a benchmark, not a test. Prints figures.
#
#   bash bench/ingest.sh [seconds of flood, default 10] [loggen rate, default 1000000 = as fast as it sends]
#
# 1. UDP flood of FortiGate lines (97% traffic logs, not alerts; 3% IPS
#    alerts from 50 attackers) from syslog-ng's `loggen`, first to Debian's
#    `rsyslogd` (imudp -> one file), then to `ticketera ingest`, the same
#    flood in the same run: messages per second received and normalized,
#    loss accounted (the kernel's UDP RcvbufErrors, our queue drops), and
#    ticketera's peak resident memory.
# 2. Alert in -> ticket visible over GraphQL at 100 alerts/s against
#    `ticketera serve` (p50/p99).
#
# Installs what is missing: rsyslog (apt), loggen (syslog-ng-core's; it
# conflicts with rsyslog as a package, so its files are unpacked beside it).
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
secs="${1:-10}"
rate="${2:-1000000}"
work=$(mktemp -d /tmp/ticketera-ingest-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${dbs[@]:-}"; do
    [ -n "$db" ] && psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  bench_cleanup
  rm -rf "$work"
}
dbs=()
trap cleanup EXIT

# --- what it needs ----------------------------------------------------------
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
if ! command -v rsyslogd >/dev/null 2>&1; then
  say "installing Debian's rsyslog"
  "${as_root[@]}" apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog >&2
fi
loggen_root="${LOGGEN_ROOT:-/opt/loggen}"
if command -v loggen >/dev/null 2>&1; then
  loggen=(loggen)
else
  if [ ! -x "$loggen_root/bin/loggen" ]; then
    say "unpacking loggen from Debian's syslog-ng-core into $loggen_root"
    dl=$(mktemp -d)
    (cd "$dl" && apt-get download syslog-ng-core >&2)
    "${as_root[@]}" mkdir -p "$loggen_root"
    "${as_root[@]}" dpkg-deb -x "$dl"/syslog-ng-core_*.deb "$dl/x"
    "${as_root[@]}" mkdir -p "$loggen_root/bin" "$loggen_root/lib"
    "${as_root[@]}" cp "$dl/x/usr/bin/loggen" "$loggen_root/bin/"
    "${as_root[@]}" cp -a "$dl/x/usr/lib/syslog-ng" "$loggen_root/lib/"
    rm -rf "$dl"
  fi
  loggen=(env "LD_LIBRARY_PATH=$loggen_root/lib/syslog-ng" "SYSLOGNG_PREFIX=$loggen_root" "$loggen_root/bin/loggen")
fi
# A private PostgreSQL cluster unless BENCH_DATABASE_SERVER is given
# (bench/lib.sh): other databases' work on a shared cluster would show up in
# the alert -> GraphQL latency.
bench_server

say "release build of ticketera and ingest_latency"
cargo build --release -q -p ticketera -p ticketera-bench >&2
target="${CARGO_TARGET_DIR:-target}/release"
bin="$target/ticketera"

free_port() { bench_free_port; }
# /proc/net/snmp: "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors ...".
rcvbuf_errors() { awk '/^Udp:/ { if (++n == 2) print $6 }' /proc/net/snmp; }
fresh_db() {
  local db="bench_ingest_$RANDOM$RANDOM"
  psql -q "$server/postgres" -c "CREATE DATABASE \"$db\"" >/dev/null
  dbs+=("$db")
  echo "$server/$db"
}

# --- the flood: FortiGate lines ----------------------------------------------
flood="$work/flood.log"
awk 'BEGIN {
  srand(42);
  for (i = 0; i < 100000; i++) {
    if (i % 33 == 0) {
      a = i % 50;
      printf "<185>date=2026-11-27 time=10:02:11 devname=\"FGT-EDGE-01\" devid=\"FG200F0000000001\" eventtime=1795784531000000000 tz=\"-0300\" logid=\"0419016384\" type=\"utm\" subtype=\"ips\" eventtype=\"signature\" level=\"alert\" vd=\"root\" severity=\"critical\" srcip=203.0.113.%d srccountry=\"Reserved\" dstip=10.20.1.15 srcintf=\"wan1\" dstintf=\"dmz\" sessionid=%d action=\"dropped\" proto=6 service=\"HTTPS\" policyid=12 attack=\"Apache.Log4j.Error.Log.Remote.Code.Execution\" srcport=%d dstport=443 direction=\"outgoing\" attackid=51006 profile=\"default\" crscore=50 craction=4096 crlevel=\"critical\"\n", a + 1, 4400000 + i, 1024 + i % 60000;
    } else {
      printf "<189>date=2026-11-27 time=10:08:15 devname=\"FGT-EDGE-01\" devid=\"FG200F0000000001\" eventtime=1795784895 tz=\"-0300\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=10.20.%d.%d srcport=%d srcintf=\"lan\" dstip=93.184.215.14 dstport=443 dstintf=\"wan1\" sessionid=%d proto=6 action=\"close\" policyid=4 service=\"HTTPS\" duration=%d sentbyte=%d rcvdbyte=%d sentpkt=22 rcvdpkt=35\n", int(rand()*250), int(rand()*250), 1024 + i % 60000, 4411980 + i, int(rand()*100), int(rand()*100000), int(rand()*1000000);
    }
  }
}' > "$flood"
say "flood file: $(wc -l < "$flood") lines (3% alerts), ${secs} s per receiver, loggen rate $rate/s"

# Sends the flood to 127.0.0.1:$1; prints loggen's count of messages sent.
send_flood() {
  local port=$1 out="$work/loggen.$port"
  "${loggen[@]}" -i -D -R "$flood" -d -l --rate "$rate" -I "$secs" 127.0.0.1 "$port" >"$out" 2>&1 || true
  grep -o 'count=[0-9]*' "$out" | tail -1 | cut -d= -f2
}

# Waits until the counter printed by "$@" stops moving; prints "value end_epoch".
settle() {
  local last=-1 same=0 v t
  while :; do
    v=$("$@"); t=$(date +%s.%N)
    if [ "$v" = "$last" ]; then same=$((same + 1)); else same=0; last=$v; lt=$t; fi
    [ "$same" -ge 10 ] && break
    sleep 0.1
  done
  echo "$last $lt"
}

# --- rsyslogd: imudp -> file ---------------------------------------------------
port=$(free_port)
mkdir -p "$work/rsyslog"
cat > "$work/rsyslog.conf" <<EOF
global(workDirectory="$work/rsyslog")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$port" rcvbufSize="8m" ruleset="flood")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="flood") { action(type="omfile" file="$work/rsyslog.out" template="raw" asyncWriting="on" flushInterval="1" ioBufferSize="256k") }
EOF
rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" >"$work/rsyslog.log" 2>&1 &
pids+=($!); rpid=$!
sleep 1
e0=$(rcvbuf_errors); t0=$(date +%s.%N)
r_sent=$(send_flood "$port")
read -r r_got tend < <(settle sh -c "cat '$work/rsyslog.out' 2>/dev/null | wc -l")
e1=$(rcvbuf_errors)
r_kernel=$((e1 - e0))
kill "$rpid" 2>/dev/null || true
r_rate=$(echo "$r_got $tend $t0" | awk '{ printf "%.0f", $1 / ($2 - $3) }')
say "rsyslogd: sent $r_sent, written $r_got, kernel RcvbufErrors +$r_kernel, unaccounted $((r_sent - r_got - r_kernel))"

# --- ticketera ingest ------------------------------------------------------------
db=$(fresh_db)
port=$(free_port)
hport=$(free_port)
DATABASE_URL="$db" TICKETERA_HTTP_ADDR="127.0.0.1:$hport" TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$port" \
  TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$port" TICKETERA_ADMIN_PASSWORD=bench-admin-password \
  TICKETERA_SYSLOG_UDP_RCVBUF_BYTES=8388608 RUST_LOG=warn "$bin" ingest >"$work/ingest.out" 2>"$work/ingest.err" &
pids+=($!); ipid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
metric() { curl -fs "http://127.0.0.1:$hport/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }'; }
handled() { echo $(( $(metric ticketera_ingest_parsed_total) + $(metric ticketera_ingest_dead_lettered_total) + $(metric ticketera_ingest_dropped_total) )); }
peak_rss=0
( while kill -0 "$ipid" 2>/dev/null; do awk '/VmRSS/ { print $2 }' "/proc/$ipid/status"; sleep 0.2; done ) > "$work/rss" &
pids+=($!)
e0=$(rcvbuf_errors); t0=$(date +%s.%N)
sent=$(send_flood "$port")
read -r got tend < <(settle handled)
e1=$(rcvbuf_errors)
received=$(metric ticketera_ingest_received_total)
parsed=$(metric ticketera_ingest_parsed_total)
alerts=$(metric ticketera_ingest_alerts_total)
dropped=$(metric ticketera_ingest_dropped_total)
opened=$(metric ticketera_ingest_tickets_opened_total)
batches=$(metric ticketera_ingest_correlation_events_total)
peak_rss=$(sort -n "$work/rss" | tail -1)
t_rate=$(echo "$parsed $tend $t0" | awk '{ printf "%.0f", $1 / ($2 - $3) }')
say "ticketera: sent $sent, received $received, parsed $parsed ($alerts alerts -> $opened tickets, $batches correlation events), dropped $dropped, kernel RcvbufErrors +$((e1 - e0)), unaccounted $((sent - received - (e1 - e0)))"
# The latency run below starts on a quiet machine: the flood's receiver has
# exited (its shutdown flushes pending correlations) and its database is gone.
kill "$ipid" 2>/dev/null || true
wait "$ipid" 2>/dev/null || true
psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"${db##*/}\" WITH (FORCE)" >/dev/null 2>&1 || true
sleep 2

echo "UDP flood (${secs} s, FortiGate lines, 3% alerts):"
echo "  rsyslogd imudp->file: ${r_rate} msg/s written (loggen sent $r_sent, written $r_got, kernel drops $r_kernel, unaccounted $((r_sent - r_got - r_kernel)))"
echo "  ticketera ingest:     ${t_rate} msg/s received and normalized (loggen sent $sent, received $received, normalized $parsed, queue drops $dropped, kernel drops $((e1 - e0)), unaccounted $((sent - received - (e1 - e0))))"
echo "  ratio ticketera/rsyslog: $(echo "$t_rate $r_rate" | awk '{ printf "%.2f", $1 / $2 }')x"
echo "  ticketera peak resident memory: $((peak_rss / 1024)) MiB"

# --- latency: alert in -> ticket visible over GraphQL -----------------------------
db=$(fresh_db)
port=$(free_port)
hport=$(free_port)
DATABASE_URL="$db" TICKETERA_HTTP_ADDR="127.0.0.1:$hport" TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$port" \
  TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$port" TICKETERA_ADMIN_PASSWORD=bench-admin-password \
  TICKETERA_GRAPHQL_RATE_PER_MINUTE=0 RUST_LOG=warn "$bin" serve >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
BENCH_TICKETERA_DATABASE_URL="$db" "$target/ingest_latency" "http://127.0.0.1:$hport" "127.0.0.1:$port" bench-admin-password 100 20
echo "  (load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
