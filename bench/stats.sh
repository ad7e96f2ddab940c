#!/usr/bin/env bash
# What counting readers costs: GET /v1/publications/{slug} throughput with
# ARKIV_STATS=on against ARKIV_STATS=off, in alternating rounds of one run,
# with the response cache on (the default: counting is then most of the
# work besides sending) and off. Every request comes as a new reader
# (bench/stats.lua): by default one browser User-Agent and a new client
# address in X-Forwarded-For each time (the server trusts one proxy), as
# readers behind a CDN come; READERS=agents gives each request a new
# User-Agent instead, so the robots list is matched afresh every time (the
# worst case). The script prints how many views the server counted, to
# show that it did.
#
#   bench/stats.sh
#   ROUNDS=5 DURATION=15s bench/stats.sh
#
# Settings (environment):
#   ROUNDS       on/off pairs per cache mode                    (3)
#   DURATION     length of each measured run                     (10s)
#   WARMUP       unmeasured run before each measured one         (2s)
#   CONNECTIONS  wrk -c                                          (16)
#   THREADS      wrk -t                                          (2)
#   PORT         HTTP port (the metrics listener is PORT+1)      (18090)
#   READERS      how readers differ: addresses or agents         (addresses)
#   ARKIV_BIN    the binary to measure (default: target/dist/arkiv, built
#                with `cargo build --profile dist` when missing)
#
# The server runs on the demo archive in bench/.work/stats/ (made at the
# first start), on 127.0.0.1 only, with the anonymous rate limit off.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PORT=${PORT:-18090}
READERS=${READERS:-addresses}
METRICS_PORT=$((PORT + 1))

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work/stats
BIN=${ARKIV_BIN:-$ROOT/target/dist/arkiv}
BASE=http://127.0.0.1:$PORT
export ARKIV_LOG=${ARKIV_LOG:-warn}

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
if [[ -z "${ARKIV_BIN:-}" && ! -x "$BIN" ]]; then
  (cd "$ROOT" && cargo build --profile dist)
fi
mkdir -p "$WORK"

SERVER=
stop_server() {
  if [[ -n "$SERVER" ]]; then
    kill -TERM "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
  fi
}
trap stop_server EXIT

# start_server STATS CACHE_MB
start_server() {
  ARKIV_DATA_DIR=$WORK/data ARKIV_BIND=127.0.0.1:$PORT \
    ARKIV_METRICS_BIND=127.0.0.1:$METRICS_PORT ARKIV_RATE_LIMIT=0 ARKIV_TRUST_PROXY=1 \
    ARKIV_STATS=$1 ARKIV_CACHE_MB=$2 "$BIN" serve >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 600); do
    curl -fs "$BASE/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server did not start; see $WORK/server.log" >&2
  exit 1
}

start_server off 128
curl -fs "$BASE/v1/publications?limit=100" |
  python3 -c 'import json, sys; print("\n".join(p["slug"] for p in json.load(sys.stdin)["items"]))' \
    >"$WORK/slugs.txt"
stop_server
echo "publications: $(wc -l <"$WORK/slugs.txt") (demo archive), readers differ by $READERS, wrk -t$THREADS -c$CONNECTIONS, $DURATION runs, $ROUNDS rounds"

# run STATS CACHE_MB -> prints "req/s p99 counted"
run() {
  start_server "$1" "$2"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH/stats.lua" "$BASE" -- "$WORK/slugs.txt" "$READERS" >/dev/null
  local out rps p99 counted
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$BENCH/stats.lua" "$BASE" -- "$WORK/slugs.txt" "$READERS")
  if grep -q "stats.lua" <<<"$out"; then
    echo "wrk's script failed: $out" >&2
    exit 1
  fi
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  counted=$(curl -fs "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk '/^arkiv_stats_reads_total\{event="view",outcome="counted"\}/ {print $2}')
  stop_server
  echo "$rps $p99 ${counted:-0}"
}

printf '\n%-10s %-5s %12s %9s %12s\n' cache stats req/s p99 "views counted"
for cache in 128 0; do
  label=$([[ $cache == 0 ]] && echo off || echo on)
  on_all=()
  off_all=()
  for round in $(seq "$ROUNDS"); do
    for stats in on off; do
      read -r rps p99 counted < <(run "$stats" "$cache")
      printf '%-10s %-5s %12s %9s %12s\n' "$label" "$stats" "$rps" "$p99" "$counted"
      if [[ $stats == on ]]; then on_all+=("$rps"); else off_all+=("$rps"); fi
    done
  done
  python3 - "$label" "${on_all[*]}" "${off_all[*]}" <<'EOF'
import statistics, sys
label, on, off = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ratios = [a / b for a, b in zip(on, off)]
print(f"cache {label}: stats on/off throughput, median of rounds: "
      f"{statistics.median(on):.0f} / {statistics.median(off):.0f} req/s = "
      f"{statistics.median(on) / statistics.median(off):.3f} "
      f"(per round: {', '.join(f'{r:.3f}' for r in ratios)}; target >= 0.95)\n")
EOF
done
