#!/usr/bin/env bash
# Abuse benchmark of Ticketera SOC's syslog listeners: a benchmark, not a
# test. Prints figures, asserts nothing.
#
#   bash bench/abuse.sh [MiB from one sender, default 1024] [new fingerprints/s, default 20000] [seconds of that, default 10]
#
# Against one `ticketera serve` with the default limits (docs/ingest.md,
# "Abuse limits"):
# 1. one sender pushes 1 GiB of FortiGate traffic logs over one TCP
#    connection as fast as it can;
# 2. one sender sends IPS alerts over UDP, each of a new fingerprint, at
#    20,000 a second (the storm protection and the correlator's bound).
# For each: throughput, the drops by reason, tickets and storm alerts; for
# the run: the server's peak resident memory (the target is under 512 MiB)
# and whether /healthz kept answering (polled every 200 ms, 1 s timeout).
# Uses TICKETERA_BIN, else target/release/ticketera, else the debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
mib="${1:-1024}"
fps_rate="${2:-20000}"
fps_secs="${3:-10}"
work=$(mktemp -d /tmp/ticketera-abuse-bench.XXXXXX)
pids=()
db=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$db" ] && psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS \"${db##*/}\" WITH (FORCE)" >/dev/null 2>&1 || true
  bench_cleanup
  rm -rf "$work"
}
trap cleanup EXIT

bench_binary
bench_server
db="$server/bench_abuse_$RANDOM$RANDOM"
psql -q "$server/postgres" -c "CREATE DATABASE \"${db##*/}\"" >/dev/null

port=$(bench_free_port)
hport=$(bench_free_port)
DATABASE_URL="$db" TICKETERA_HTTP_ADDR="127.0.0.1:$hport" TICKETERA_SYSLOG_UDP_ADDR="127.0.0.1:$port" \
  TICKETERA_SYSLOG_TCP_ADDR="127.0.0.1:$port" TICKETERA_ADMIN_PASSWORD=bench-admin-password \
  TICKETERA_SYSLOG_UDP_RCVBUF_BYTES=8388608 RUST_LOG=warn "$bin" serve >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!); spid=$!
for _ in $(seq 300); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null || { say "ticketera serve did not start:"; cat "$work/serve.err" >&2; exit 1; }

metric() { curl -fs "http://127.0.0.1:$hport/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }'; }
drops() {
  curl -fs "http://127.0.0.1:$hport/metrics" |
    awk '/^ticketera_ingest_dropped_total\{/ && $2 > 0 { sub(/.*reason="/, "", $1); sub(/".*/, "", $1); printf "%s%s=%.0f", sep, $1, $2; sep=", " } END { if (!sep) printf "none" }'
}
handled() { echo $(( $(metric ticketera_ingest_parsed_total) + $(metric ticketera_ingest_dead_lettered_total) + $(metric ticketera_ingest_dropped_total) )); }
# Waits until "$@" stops moving for 2 s; prints its value.
settle() {
  local last=-1 same=0 v
  while :; do
    v=$("$@")
    if [ "$v" = "$last" ]; then same=$((same + 1)); else same=0; last=$v; fi
    [ "$same" -ge 10 ] && break
    sleep 0.2
  done
  echo "$last"
}

( while kill -0 "$spid" 2>/dev/null; do awk '/VmRSS/ { print $2 }' "/proc/$spid/status"; sleep 0.2; done ) > "$work/rss" &
pids+=($!)
( while kill -0 "$spid" 2>/dev/null; do
    if t=$(curl -fs -o /dev/null -m 1 -w '%{time_total}' "http://127.0.0.1:$hport/healthz"); then echo "ok $t"; else echo "failed"; fi
    sleep 0.2
  done ) > "$work/healthz" &
pids+=($!)

cat > "$work/flood.py" <<'EOF'
import socket, sys, time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "bytes":
    # LF-framed FortiGate traffic logs (parsed, not alerts), in 1 MiB writes.
    total = int(sys.argv[4]) * 1024 * 1024
    line = (b'<189>date=2026-11-27 time=10:08:15 devname="FGT-EDGE-01" devid="FG200F0000000001" '
            b'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
            b'srcip=10.20.5.31 srcport=60311 srcintf="lan" dstip=93.184.215.14 dstport=443 '
            b'dstintf="wan1" sessionid=4411980 proto=6 action="close" policyid=4 service="HTTPS"\n')
    chunk = line * (1024 * 1024 // len(line))
    s = socket.create_connection((host, port))
    sent = lines = 0
    t0 = time.time()
    while sent < total:
        s.sendall(chunk)
        sent += len(chunk)
        lines += chunk.count(b"\n")
    s.close()
    print(lines, sent, time.time() - t0)
else:
    # IPS alerts of one rule, each from its own source address: a new
    # fingerprint each, paced at `rate` a second.
    rate, secs = int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.time()
    n = 0
    while time.time() - t0 < secs:
        due = int((time.time() - t0) * rate)
        while n < due:
            src = "10.%d.%d.%d" % ((n >> 16) & 255, (n >> 8) & 255, n & 255)
            s.sendto(('<185>date=2026-11-27 time=10:02:11 devname="FGT-EDGE-01" logid="0419016384" '
                      'type="utm" subtype="ips" level="alert" severity="critical" srcip=%s '
                      'dstip=10.20.1.15 attack="Bench.Storm.Probe" dstport=443' % src).encode(), (host, port))
            n += 1
        time.sleep(0.001)
    print(n, 0, time.time() - t0)
EOF

# --- 1. bytes from one sender --------------------------------------------------
say "1. $mib MiB of traffic logs from one sender over TCP"
r0=$(metric ticketera_ingest_received_total)
read -r lines sent took < <(python3 "$work/flood.py" bytes 127.0.0.1 "$port" "$mib")
h1=$(settle handled)
r1=$(metric ticketera_ingest_received_total)
parsed1=$(metric ticketera_ingest_parsed_total)
echo "1. one sender, $mib MiB over TCP: $lines lines in $(printf '%.1f' "$took") s ($(echo "$sent $took" | awk '{ printf "%.0f", $1 / 1048576 / $2 }') MiB/s sent)"
echo "   received $((r1 - r0)), parsed $parsed1, handled $h1; drops: $(drops)"

# --- 2. new fingerprints ----------------------------------------------------------
say "2. $fps_rate new fingerprints/s over UDP for $fps_secs s"
a0=$(metric ticketera_ingest_alerts_total)
read -r nsent _ took2 < <(python3 "$work/flood.py" fingerprints 127.0.0.1 "$port" "$fps_rate" "$fps_secs")
settle handled >/dev/null
# Tickets open in the background: wait for the correlator to settle too.
opened_now() { metric ticketera_ingest_tickets_opened_total; }
settle opened_now >/dev/null
opened=$(metric ticketera_ingest_tickets_opened_total)
storm=$(metric ticketera_ingest_storm_alerts_total)
alerts=$(( $(metric ticketera_ingest_alerts_total) - a0 ))
echo "2. new fingerprints: sent $nsent in $(printf '%.1f' "$took2") s ($(echo "$nsent $took2" | awk '{ printf "%.0f", $1 / $2 }')/s), alerts $alerts, tickets opened $opened, alerts into storm tickets $storm"
echo "   drops: $(drops)"

# --- the run ------------------------------------------------------------------------
peak_rss=$(sort -n "$work/rss" | tail -1)
ok=$(grep -c '^ok' "$work/healthz" || true)
failed=$(grep -c '^failed' "$work/healthz" || true)
slowest=$(awk '$1 == "ok" && $2 > m { m = $2 } END { printf "%.3f", m }' "$work/healthz")
echo "server peak resident memory: $((peak_rss / 1024)) MiB (target: under 512 MiB)"
echo "/healthz: $ok answered, $failed failed or over 1 s, slowest $slowest s"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; binary $bin)"
