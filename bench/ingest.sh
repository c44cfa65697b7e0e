#!/usr/bin/env bash
# Ingest benchmark of Ticketera SOC: a benchmark, not a test. Prints figures.
#
#   bash bench/ingest.sh [seconds of flood, default 10] [loggen rate, default 1000000 = as fast as it sends] [runs, default 5]
#
# 1. UDP flood of FortiGate lines (97% traffic logs, not alerts; 3% IPS
#    alerts from 50 attackers) from syslog-ng's `loggen` to Debian's
#    `rsyslogd` (imudp -> one file) and to `ticketera ingest`, `runs` times
#    each, interleaved (r, t, r, t …) in the same run: every run's messages
#    per second written / received and normalized with its accounting
#    (sent, stored, dead-lettered, dropped by reason, the kernel's UDP
#    RcvbufErrors, unaccounted), the median of each side and the ratio of
#    the medians, and ticketera's peak resident memory.
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
runs="${3:-5}"
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

target="${CARGO_TARGET_DIR:-target}/release"
if [ -n "${TICKETERA_BIN:-}" ]; then
  # Another build of ticketera (e.g. a baseline beside this one): nothing built here.
  bin="$TICKETERA_BIN"
  say "ticketera: $bin (not built here)"
else
  say "release build of ticketera and ingest_latency"
  cargo build --release -q -p ticketera -p ticketera-bench >&2
  bin="$target/ticketera"
fi

free_port() { bench_free_port; }
# /proc/net/snmp: "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors ...".
rcvbuf_errors() { awk '/^Udp:/ { if (++n == 2) print $6 }' /proc/net/snmp; }
# Creates a database for one receiver: its name in $db, its URL in $db_url
# (not echoed: a subshell would lose the cleanup list).
fresh_db() {
  db="bench_ingest_$RANDOM$RANDOM"
  psql -q "$server/postgres" -c "CREATE DATABASE \"$db\"" >/dev/null
  dbs+=("$db")
  db_url="$server/$db"
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
say "flood file: $(wc -l < "$flood") lines (3% alerts), ${secs} s per run, loggen rate $rate/s"

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

# --- the flood, rsyslogd and ticketera interleaved -----------------------------
# Each side gets a fresh receiver per run (rsyslogd with a fresh file,
# ticketera with a fresh database), and the runs alternate r, t, r, t … so
# that the other work on the machine falls on both sides alike.

# The rate of a run: what the receiver handled over the time from the
# first datagram sent to the moment its counter last moved.
rate_of() { echo "$1 $2 $3" | awk '{ printf "%.0f", $1 / ($2 - $3) }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

r_rates=()
r_lines=()
rsyslog_run() {
  local i=$1 port dir rpid e0 t0 sent got tend e1 kernel mps
  port=$(free_port)
  dir="$work/rsyslog.$i"
  mkdir -p "$dir/spool"
  cat > "$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/spool")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$port" rcvbufSize="8m" ruleset="flood")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="flood") { action(type="omfile" file="$dir/out" template="raw" asyncWriting="on" flushInterval="1" ioBufferSize="256k") }
EOF
  rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/pid" >"$dir/log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  sleep 1
  e0=$(rcvbuf_errors); t0=$(date +%s.%N)
  sent=$(send_flood "$port")
  read -r got tend < <(settle sh -c "cat '$dir/out' 2>/dev/null | wc -l")
  e1=$(rcvbuf_errors)
  kernel=$((e1 - e0))
  kill "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
  rm -f "$dir/out"
  mps=$(rate_of "$got" "$tend" "$t0")
  r_rates+=("$mps")
  r_lines+=("$(printf '  rsyslogd  run %d: %7d msg/s written    sent %d, written %d, kernel RcvbufErrors +%d, unaccounted %d (load %s)' \
    "$i" "$mps" "$sent" "$got" "$kernel" $((sent - got - kernel)) "$(load)")")
  say "${r_lines[-1]# }"
}

# Drop reasons of messages (received = parsed + dead-lettered + these;
# ingest/src/metrics.rs); the other reasons count connections or alerts.
message_drop_reasons="queue_full queue_bytes_full frame_too_large bad_frame shutdown sender_not_allowed peer_rate_limited"
t_rates=()
t_lines=()
t_unaccounted=0
peak_rss=0
ticketera_run() {
  local i=$1 port hport ipid e0 t0 sent got tend e1 kernel mps received parsed dead dropped reasons
  local alerts opened batches unstored unaccounted rss
  fresh_db
  port=$(free_port)
  hport=$(free_port)
  # One sender (loggen on 127.0.0.1) is the whole flood here, as a relay
  # would be: its rate limit is set above what it can send.
  DATABASE_URL="$db_url" TICKETERA_HTTP_ADDR="127.0.0.1:$hport" TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$port" \
    TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$port" TICKETERA_ADMIN_PASSWORD=bench-admin-password \
    TICKETERA_SYSLOG_UDP_RCVBUF_BYTES=8388608 TICKETERA_SYSLOG_PEER_RATE=100000000 \
    RUST_LOG=warn "$bin" ingest >"$work/ingest.$i.out" 2>"$work/ingest.$i.err" &
  ipid=$!
  pids+=("$ipid")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  ( while kill -0 "$ipid" 2>/dev/null; do awk '/VmRSS/ { print $2 }' "/proc/$ipid/status" 2>/dev/null; sleep 0.2; done ) > "$work/rss.$i" &
  pids+=($!)
  metrics_url="http://127.0.0.1:$hport/metrics"
  e0=$(rcvbuf_errors); t0=$(date +%s.%N)
  sent=$(send_flood "$port")
  read -r got tend < <(settle handled)
  e1=$(rcvbuf_errors)
  kernel=$((e1 - e0))
  curl -fs "$metrics_url" > "$work/metrics.$i" || true
  received=$(metric_of "$work/metrics.$i" ticketera_ingest_received_total)
  parsed=$(metric_of "$work/metrics.$i" ticketera_ingest_parsed_total)
  dead=$(metric_of "$work/metrics.$i" ticketera_ingest_dead_lettered_total)
  alerts=$(metric_of "$work/metrics.$i" ticketera_ingest_alerts_total)
  opened=$(metric_of "$work/metrics.$i" ticketera_ingest_tickets_opened_total)
  batches=$(metric_of "$work/metrics.$i" ticketera_ingest_correlation_events_total)
  dropped=$(message_drops "$work/metrics.$i")
  reasons=$(drops_by_reason "$work/metrics.$i")
  kill "$ipid" 2>/dev/null || true
  wait "$ipid" 2>/dev/null || true
  psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rss=$(sort -n "$work/rss.$i" | tail -1)
  if [ "${rss:-0}" -gt "$peak_rss" ]; then peak_rss=$rss; fi
  # Lost between the socket and a counter: neither the kernel's drops nor
  # ours (received - handled: the README's identity).
  unaccounted=$((sent - received - kernel))
  unstored=$((received - parsed - dead - dropped))
  t_unaccounted=$((t_unaccounted + (unaccounted < 0 ? -unaccounted : unaccounted) + (unstored < 0 ? -unstored : unstored)))
  mps=$(rate_of "$parsed" "$tend" "$t0")
  t_rates+=("$mps")
  t_lines+=("$(printf '  ticketera run %d: %7d msg/s normalized sent %d, received %d, normalized %d (%d alerts -> %d tickets, %d correlation events), dead-lettered %d, dropped %d (%s), kernel RcvbufErrors +%d, unaccounted %d, received - handled %d (load %s)' \
    "$i" "$mps" "$sent" "$received" "$parsed" "$alerts" "$opened" "$batches" "$dead" "$dropped" "${reasons:-none}" "$kernel" "$unaccounted" "$unstored" "$(load)")")
  say "${t_lines[-1]# }"
}

metric_of() { awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }' "$1"; }
# Sum of the message drop reasons in a /metrics text (file $1, or stdin).
message_drops() {
  awk -v rs="$message_drop_reasons" 'BEGIN { split(rs, a, " "); for (k in a) want["ticketera_ingest_dropped_total{reason=\"" a[k] "\"}"] = 1 }
    ($1 in want) { s += $2 } END { printf "%.0f", s }' "${1:-/dev/stdin}"
}
drops_by_reason() {
  awk 'index($1, "ticketera_ingest_dropped_total{") == 1 && $2 > 0 { r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); printf "%s%s %.0f", sep, r, $2; sep = ", " }' "$1"
}
handled() {
  local m
  m=$(curl -fs "$metrics_url") || { echo -1; return; }
  echo $(( $(echo "$m" | metric_of /dev/stdin ticketera_ingest_parsed_total) + $(echo "$m" | metric_of /dev/stdin ticketera_ingest_dead_lettered_total) + $(echo "$m" | message_drops) ))
}

say "flood: $runs runs of each receiver, interleaved (load average $(load) on $(nproc) cores)"
for i in $(seq "$runs"); do
  rsyslog_run "$i"
  ticketera_run "$i"
done
r_med=$(median "${r_rates[@]}")
t_med=$(median "${t_rates[@]}")

echo "UDP flood (${secs} s per run, FortiGate lines, 3% alerts; $runs runs of each, interleaved r, t, r, t …):"
for i in $(seq 0 $((runs - 1))); do
  echo "${r_lines[$i]}"
  echo "${t_lines[$i]}"
done
echo "  median of $runs: rsyslogd imudp->file ${r_med} msg/s written, ticketera ingest ${t_med} msg/s received and normalized"
echo "  ratio of medians ticketera/rsyslogd: $(echo "$t_med $r_med" | awk '{ printf "%.2f", $1 / $2 }')x"
echo "  ticketera unaccounted over all runs: $t_unaccounted"
echo "  ticketera peak resident memory: $((peak_rss / 1024)) MiB"
echo "  (load average after the flood: $(load) on $(nproc) cores; other work ran on the machine meanwhile)"
sleep 2

# --- latency: alert in -> ticket visible over GraphQL -----------------------------
# Every probe is a new fingerprint of one rule: lift the storm budget (100
# new tickets per rule and interval), or all but the first 100 probes would
# be folded into a storm ticket and never seen as tickets of their own.
fresh_db
port=$(free_port)
hport=$(free_port)
DATABASE_URL="$db_url" TICKETERA_HTTP_ADDR="127.0.0.1:$hport" TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$port" \
  TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$port" TICKETERA_ADMIN_PASSWORD=bench-admin-password \
  TICKETERA_STORM_TICKETS_PER_RULE=1000000 \
  TICKETERA_GRAPHQL_RATE_PER_MINUTE=0 RUST_LOG=warn "$bin" serve >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
BENCH_TICKETERA_DATABASE_URL="$db_url" "$target/ingest_latency" "http://127.0.0.1:$hport" "127.0.0.1:$port" bench-admin-password 100 20
echo "  (load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
