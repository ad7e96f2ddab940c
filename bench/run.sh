#!/usr/bin/env bash
# Benchmarks arkiv on this machine: import speed, then GET throughput and
# latency of one publication (rotating over a few thousand ids and slugs, and
# over all of them) and of the first page of the list, on SQLite and on a
# throwaway PostgreSQL cluster.
#
#   bench/run.sh                                  # 50,000 publications, 15 s runs
#   PUBLICATIONS=20000 DURATION=10s bench/run.sh
#
# Settings (environment):
#   PUBLICATIONS  publications in the generated corpus        (50000)
#   DURATION      length of each measured load run            (15s)
#   CONNECTIONS   open connections during a load run          (8)
#   THREADS       load generator threads (wrk -t)             (1)
#   WORKERS       server worker threads (serve --workers)     (2)
#   WARMUP        unmeasured run before each measured one     (3s; 0 = none)
#   KEYS          publications the detail run rotates over    (4000; the
#                 "detail, all" run rotates over every published one)
#   SEED          corpus seed                                 (1)
#   PORT          HTTP port of the server under test          (18080)
#   PG_PORT       port of the throwaway PostgreSQL cluster    (55432)
#   PG_BIN        PostgreSQL binaries              (/usr/lib/postgresql/15/bin)
#   BACKENDS      which backends to run            ("sqlite postgres")
#   QUIET_WAIT    wait up to this many seconds before each measured run for
#                 the machine to be quiet                     (300)
#   QUIET_MAX     "quiet": other processes use under this % of the CPU (10)
#   BUSY_MAX      measure again when others took more than this % of the
#                 CPU during a measured run                   (15)
#   RETRIES       at most this many times                     (2)
#   ARKIV_BIN     benchmark this binary instead of building target/dist/arkiv
#
# Everything it makes goes to bench/.work/ (ignored by git): the corpus
# (reused by later runs with the same PUBLICATIONS and SEED), the key list,
# the SQLite data dir, server and load-generator logs, and results-*.txt.
# The PostgreSQL cluster lives in a temporary dir under /tmp and is stopped
# and removed on exit. Servers listen on 127.0.0.1 only.
set -euo pipefail

PUBLICATIONS=${PUBLICATIONS:-50000}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-2}
WARMUP=${WARMUP:-3s}
KEYS=${KEYS:-4000}
SEED=${SEED:-1}
PORT=${PORT:-18080}
PG_PORT=${PG_PORT:-55432}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BACKENDS=${BACKENDS:-sqlite postgres}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work
BIN=${ARKIV_BIN:-$ROOT/target/dist/arkiv}
MAKE_CORPUS=${MAKE_CORPUS:-$ROOT/../shared/tools/make-corpus}
HOST=127.0.0.1
BASE=http://$HOST:$PORT

export ARKIV_LOG=${ARKIV_LOG:-warn}
# One load generator is one client: the per-client rate limit would measure
# itself, not the server.
export ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_WORKERS || true

STARTED=$(date +%s)
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

mkdir -p "$WORK"

# --- cleanup ---------------------------------------------------------------
SERVER_PID=
PG_ROOT=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
stop_postgres() {
    if [[ -n $PG_ROOT ]]; then
        (cd /tmp && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop) \
            >/dev/null 2>&1 || true
        rm -rf "$PG_ROOT"
        PG_ROOT=
    fi
}
cleanup() {
    stop_server
    stop_postgres
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- load generator --------------------------------------------------------
LOADGEN=
if command -v wrk >/dev/null; then
    LOADGEN=wrk
else
    log "wrk is missing: installing it with apt-get"
    if { apt-get update -qq && apt-get install -y -qq wrk; } >"$WORK/apt.log" 2>&1 \
        && command -v wrk >/dev/null; then
        LOADGEN=wrk
    elif command -v oha >/dev/null; then
        log "could not install wrk (see $WORK/apt.log): falling back to oha"
        LOADGEN=oha
    else
        die "no load generator: install wrk (apt-get install wrk) or oha"
    fi
fi

# --- who else uses the CPU -------------------------------------------------
# The server and the load generator share the machine, and anything else that
# runs meanwhile (a build, tests) takes from both. So each run also reports
# "other CPU": the share of the machine's CPU time (all cores) used by
# processes other than the server, wrk and PostgreSQL during the measured run.
# Before each measured run the script waits (up to QUIET_WAIT seconds) for
# the machine to be quiet: other CPU under QUIET_MAX percent over 3 s.
CLK_TCK=$(getconf CLK_TCK)
# machine_jiffies: "BUSY TOTAL" CPU jiffies over all cores since boot.
machine_jiffies() {
    awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6; exit }' /proc/stat
}
# ours_jiffies: CPU jiffies used so far by the server and PostgreSQL (with
# their reaped children: the postmaster reaps the backends that exit).
ours_jiffies() {
    local pids=() pid total=0 j
    [[ -n $SERVER_PID ]] && pids+=("$SERVER_PID")
    if [[ -n $PG_ROOT ]]; then
        mapfile -t -O "${#pids[@]}" pids < <(pgrep -u postgres || true)
    fi
    for pid in "${pids[@]}"; do
        j=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + ${j:-0}))
    done
    echo "$total"
}
# children_jiffies: CPU jiffies of this shell's finished children (wrk, ...).
# `times` must run in this shell, not in a $(...) subshell (whose children
# are its own), hence the file.
TIMES_FILE=$WORK/.times
children_jiffies() {
    local line
    line=$(tail -1 "$TIMES_FILE")
    awk -v l="$line" -v hz="$CLK_TCK" 'BEGIN {
        split(l, t, " "); sum = 0
        for (i = 1; i <= 2; i++) { split(t[i], ms, "m"); sub(/s$/, "", ms[2]); sum += ms[1] * 60 + ms[2] }
        printf "%.0f", sum * hz }'
}
CPU_MARK=
cpu_mark() {
    times >"$TIMES_FILE"
    CPU_MARK="$(machine_jiffies) $(ours_jiffies) $(children_jiffies)"
}
# cpu_other: sets CPU_OTHER, the percent of the machine's CPU time since
# cpu_mark that other processes used. Call it in this shell, not in $(...).
cpu_other() {
    local now_
    times >"$TIMES_FILE"
    now_="$(machine_jiffies) $(ours_jiffies) $(children_jiffies)"
    CPU_OTHER=$(awk -v a="$CPU_MARK" -v b="$now_" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        total = y[2] - x[2]; other = (y[1] - x[1]) - (y[3] - x[3]) - (y[4] - x[4])
        if (other < 0) other = 0
        printf "%.0f", (total > 0) ? 100 * other / total : 0 }')
}
QUIET_WAIT=${QUIET_WAIT:-300}
QUIET_MAX=${QUIET_MAX:-10}
BUSY_MAX=${BUSY_MAX:-15}
RETRIES=${RETRIES:-2}
wait_quiet() {
    local waited=0 other
    while :; do
        cpu_mark
        sleep 3
        cpu_other; other=$CPU_OTHER
        ((other < QUIET_MAX)) && break
        if ((waited >= QUIET_WAIT)); then
            log "the machine is still busy (other CPU ${other}%): measuring anyway"
            break
        fi
        ((waited == 0)) && log "waiting for the machine to be quiet (other CPU ${other}%, up to ${QUIET_WAIT} s)"
        waited=$((waited + 3))
    done
}

# Converts a wrk duration ("412.00us", "1.20ms", "1.01s", "1.00m") to ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/)      { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/)  { sub(/m$/, "", v);  printf "%.3f", v * 60000 }
        else if (v ~ /s$/)  { sub(/s$/, "", v);  printf "%.3f", v * 1000 }
        else                { printf "nan" }
    }'
}

# drive DURATION OUT NAME URL [KEYS_FILE]: one load run into OUT.
drive() {
    local duration=$1 out=$2 name=$3 url=$4 keys=${5:-}
    if [[ $LOADGEN == wrk ]]; then
        local -a args=(-t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency)
        if [[ -n $keys ]]; then
            wrk "${args[@]}" -s "$BENCH/detail.lua" "$url" -- "$keys" >"$out" 2>&1
        else
            wrk "${args[@]}" "$url" >"$out" 2>&1
        fi
    else
        # oha: rotate over the keys with --urls-from-file.
        local -a args=(-z "$duration" -c "$CONNECTIONS" --no-tui --output-format json)
        if [[ -n $keys ]]; then
            sed "s|^|$url/v1/publications/|" "$keys" >"$WORK/$name.urls"
            oha "${args[@]}" --urls-from-file "$WORK/$name.urls" >"$out" 2>&1
        else
            oha "${args[@]}" "$url" >"$out" 2>&1
        fi
    fi
}

# parse OUT: sets R_RPS, R_P50, R_P99 (ms), R_BAD (non-2xx/3xx responses),
# R_ERR (socket errors) from the load generator's output.
parse() {
    local out=$1
    if [[ $LOADGEN == wrk ]]; then
        R_RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
        R_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
        R_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
        R_BAD=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
        R_BAD=${R_BAD:-0}
        R_ERR=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$out")
        R_ERR=${R_ERR:-none}
    else
        read -r R_RPS R_P50 R_P99 R_BAD R_ERR < <(python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s, p = r["summary"], r["latencyPercentiles"]
codes = {int(k): v for k, v in r.get("statusCodeDistribution", {}).items()}
bad = sum(v for k, v in codes.items() if not 200 <= k < 400)
errors = sum(r.get("errorDistribution", {}).values())
print(f'{s["requestsPerSec"]:.0f} {p["p50"]*1000:.3f} {p["p99"]*1000:.3f} {bad} {errors}')
EOF
)
    fi
    [[ -n $R_RPS ]] || die "could not read the load generator's output: $out"
}

# load NAME URL [KEYS_FILE]: a warm-up run, then a measured one, measured
# again (up to RETRIES times) when other processes took more than BUSY_MAX
# percent of the CPU meanwhile; the least disturbed run is kept. Sets the
# R_* of parse, R_LOAD (load averages at the end of the kept run) and
# R_OTHER (percent of the machine's CPU others used during it).
load() {
    local name=$1 url=$2 keys=${3:-} out=$WORK/$1.txt attempt best=101
    if [[ $WARMUP != 0 ]]; then
        drive "$WARMUP" "$WORK/$name.warmup.txt" "$name" "$url" "$keys"
    fi
    for ((attempt = 0; attempt <= RETRIES; attempt++)); do
        wait_quiet
        cpu_mark
        drive "$DURATION" "$out.try" "$name" "$url" "$keys"
        cpu_other
        if ((CPU_OTHER < best)); then
            best=$CPU_OTHER
            R_LOAD=$(loadavg)
            mv "$out.try" "$out"
        fi
        ((CPU_OTHER <= BUSY_MAX)) && break
        if ((attempt < RETRIES)); then
            log "$name: other processes took ${CPU_OTHER}% of the CPU during the run: measuring again"
        fi
    done
    rm -f "$out.try"
    R_OTHER=$best
    parse "$out"
    log "$name: ${R_RPS} req/s, p50 ${R_P50} ms, p99 ${R_P99} ms, non-2xx ${R_BAD}, socket errors: ${R_ERR}; load ${R_LOAD}; other CPU ${R_OTHER}%"
}

# --- 1. build --------------------------------------------------------------
if [[ -z ${ARKIV_BIN:-} ]]; then
    log "building (cargo build --profile dist)"
    (cd "$ROOT" && cargo build --profile dist --quiet)
fi
[[ -x $BIN ]] || die "$BIN was not built"

# --- 2. corpus -------------------------------------------------------------
CORPUS=$WORK/corpus-$PUBLICATIONS-seed$SEED.ndjson
count_publications() { grep -c '^{"type": "publication"' "$1" || true; }
if [[ -s $CORPUS && $(count_publications "$CORPUS") == "$PUBLICATIONS" ]]; then
    log "reusing $CORPUS"
else
    log "generating $PUBLICATIONS publications (seed $SEED)"
    python3 "$MAKE_CORPUS" --publications "$PUBLICATIONS" --seed "$SEED" >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi
PUB_LINES=$(count_publications "$CORPUS")
RECORDS=$(wc -l <"$CORPUS")
[[ $PUB_LINES -gt 0 ]] || die "no publication lines in $CORPUS"

# The keys the detail run rotates over: published publications only (drafts
# answer 404), spread over the whole corpus, ids and slugs alternately. The
# server caches responses, so a few thousand keys are all cache hits after
# the warm-up; the "all" run walks every published publication in turn (more
# than the cache holds) to measure the path through the database as well.
KEYS_FILE=$WORK/keys-$PUBLICATIONS-seed$SEED-$KEYS.txt
KEYS_ALL_FILE=$WORK/keys-$PUBLICATIONS-seed$SEED-all.txt
python3 - "$CORPUS" "$KEYS" "$KEYS_FILE" "$KEYS_ALL_FILE" <<'EOF'
import json, sys
published = []
with open(sys.argv[1], encoding="utf-8") as corpus:
    for line in corpus:
        if not line.startswith('{"type": "publication"'):
            continue
        record = json.loads(line)
        if record.get("status", "published") == "published":
            published.append((record["id"], record["slug"]))
if not published:
    sys.exit("no published publication in the corpus")
def write(path, keys):
    with open(path, "w", encoding="utf-8") as out:
        for n, (pub_id, slug) in enumerate(keys):
            out.write((pub_id if n % 2 == 0 else slug) + "\n")
want = min(int(sys.argv[2]), len(published))
step = len(published) / want
write(sys.argv[3], [published[int(n * step)] for n in range(want)])
write(sys.argv[4], published)
EOF
N_KEYS=$(wc -l <"$KEYS_FILE")
N_ALL=$(wc -l <"$KEYS_ALL_FILE")
log "corpus: $RECORDS records, $PUB_LINES publications ($N_ALL published); $N_KEYS keys for the detail run"

# --- the steps for one backend -----------------------------------------------
# import_into LABEL: a timed `arkiv import` into the configured database.
import_into() {
    local label=$1 t0 t1
    wait_quiet
    log "$label: importing"
    cpu_mark
    t0=$(now)
    if ! "$BIN" import "$CORPUS" 2>"$WORK/import-$label.log"; then
        tail -20 "$WORK/import-$label.log" >&2
        die "$label: import failed (log: $WORK/import-$label.log)"
    fi
    t1=$(now)
    cpu_other; IMPORT_OTHER=$CPU_OTHER
    IMPORT_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    IMPORT_RATE=$(awk -v n="$PUB_LINES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
    log "$label: imported $PUB_LINES publications in $IMPORT_S s ($IMPORT_RATE publications/s; other CPU ${IMPORT_OTHER}%): $(tail -1 "$WORK/import-$label.log")"
}

# serve LABEL: starts the server and waits for /readyz.
serve() {
    local label=$1
    port_busy "$PORT" && die "port $PORT is already in use (set PORT)"
    "$BIN" serve --bind "$HOST:$PORT" --no-demo --workers "$WORKERS" >"$WORK/serve-$label.log" 2>&1 &
    SERVER_PID=$!
    local tries=0
    until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve-$label.log" >&2; die "$label: the server exited"; }
        ((++tries > 300)) && die "$label: not ready after 30 s"
        sleep 0.1
    done
    # Sanity checks: a key from the list and the list itself answer 200.
    local key code
    key=$(head -1 "$KEYS_FILE")
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/publications/$key")
    [[ $code == 200 ]] || die "$label: GET /v1/publications/$key answered $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/publications")
    [[ $code == 200 ]] || die "$label: GET /v1/publications answered $code"
    log "$label: serving on $BASE (pid $SERVER_PID, $WORKERS workers)"
}

declare -A RES
measure() {
    local label=$1
    serve "$label"
    load "detail-$label" "$BASE" "$KEYS_FILE"
    RES[$label.detail.rps]=$R_RPS RES[$label.detail.p50]=$R_P50 RES[$label.detail.p99]=$R_P99
    RES[$label.detail.bad]=$R_BAD RES[$label.detail.err]=$R_ERR RES[$label.detail.load]=$R_LOAD RES[$label.detail.other]=$R_OTHER
    load "detail-all-$label" "$BASE" "$KEYS_ALL_FILE"
    RES[$label.all.rps]=$R_RPS RES[$label.all.p50]=$R_P50 RES[$label.all.p99]=$R_P99
    RES[$label.all.bad]=$R_BAD RES[$label.all.err]=$R_ERR RES[$label.all.load]=$R_LOAD RES[$label.all.other]=$R_OTHER
    load "list-$label" "$BASE/v1/publications"
    RES[$label.list.rps]=$R_RPS RES[$label.list.p50]=$R_P50 RES[$label.list.p99]=$R_P99
    RES[$label.list.bad]=$R_BAD RES[$label.list.err]=$R_ERR RES[$label.list.load]=$R_LOAD RES[$label.list.other]=$R_OTHER
    stop_server
}

# --- 3-4. SQLite -------------------------------------------------------------
if [[ " $BACKENDS " == *" sqlite "* ]]; then
    export ARKIV_DATA_DIR=$WORK/sqlite
    rm -rf "$ARKIV_DATA_DIR"
    import_into sqlite
    RES[sqlite.import.s]=$IMPORT_S RES[sqlite.import.rate]=$IMPORT_RATE RES[sqlite.import.other]=$IMPORT_OTHER
    measure sqlite
    unset ARKIV_DATA_DIR
fi

# --- 5. PostgreSQL -----------------------------------------------------------
if [[ " $BACKENDS " == *" postgres "* ]]; then
    [[ -x $PG_BIN/initdb ]] || die "no PostgreSQL at $PG_BIN (set PG_BIN)"
    port_busy "$PG_PORT" && die "port $PG_PORT is already in use (set PG_PORT)"
    PG_ROOT=$(mktemp -d /tmp/arkiv-bench-pg.XXXXXX)
    chown postgres: "$PG_ROOT"
    chmod 700 "$PG_ROOT"
    log "postgres: initdb in $PG_ROOT, port $PG_PORT"
    (cd /tmp && runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_ROOT/data" -U postgres \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8) >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    (cd /tmp && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/postgres.log" \
        -o "-p $PG_PORT -k /tmp -c listen_addresses=$HOST" -w start) >/dev/null \
        || { cat "$PG_ROOT/postgres.log" >&2; die "PostgreSQL did not start"; }
    export ARKIV_DATABASE_URL=postgres://postgres@$HOST:$PG_PORT/postgres
    export ARKIV_DATA_DIR=$WORK/postgres
    rm -rf "$ARKIV_DATA_DIR"
    import_into postgres
    RES[postgres.import.s]=$IMPORT_S RES[postgres.import.rate]=$IMPORT_RATE RES[postgres.import.other]=$IMPORT_OTHER
    measure postgres
    cp "$PG_ROOT/postgres.log" "$WORK/postgres.log" 2>/dev/null || true
    stop_postgres
    unset ARKIV_DATABASE_URL ARKIV_DATA_DIR
fi

# --- 6. summary --------------------------------------------------------------
get() { echo "${RES[$1]:-–}"; }
# verdict VALUE OP LIMIT: "ok" or "MISS" (or "–" when not measured).
verdict() {
    [[ $1 == – || $1 == nan || -z $1 ]] && { echo "–"; return; }
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == ">=") ? (v >= l) : (v < l); print ok ? "ok" : "MISS" }'
}
RATIO=–
if [[ -n ${RES[sqlite.detail.rps]:-} && -n ${RES[postgres.detail.rps]:-} ]]; then
    RATIO=$(awk -v p="${RES[postgres.detail.rps]}" -v s="${RES[sqlite.detail.rps]}" \
        'BEGIN { printf "%.2f", (s > 0) ? p / s : 0 }')
fi
ELAPSED=$(($(date +%s) - STARTED))
RESULTS=$WORK/results-$(date +%Y%m%d-%H%M%S).txt
{
    printf 'arkiv benchmark, %s, commit %s%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
        "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$([[ -n $(git -C "$ROOT" status --porcelain -- src migrations Cargo.toml Cargo.lock 2>/dev/null) ]] &&
            echo ' + uncommitted changes')"
    printf 'machine: %s cores (nproc); %s publications (%s records); %s runs after %s warm-up;\n' \
        "$(nproc)" "$PUB_LINES" "$RECORDS" "$DURATION" "$WARMUP"
    printf 'load: %s -t%s -c%s; server --workers %s; detail rotates over %s published ids/slugs\n\n' \
        "$LOADGEN" "$THREADS" "$CONNECTIONS" "$WORKERS" "$N_KEYS"
    fmt='%-30s %14s %14s   %-22s %s\n'
    printf "$fmt" "" SQLite PostgreSQL target "met (SQLite / PG)"
    printf "$fmt" "import publications/s" "$(get sqlite.import.rate)" "$(get postgres.import.rate)" ">= 2,000" \
        "$(verdict "$(get sqlite.import.rate)" '>=' 2000) / $(verdict "$(get postgres.import.rate)" '>=' 2000)"
    printf "$fmt" "import seconds" "$(get sqlite.import.s)" "$(get postgres.import.s)" "" ""
    printf "$fmt" "detail req/s" "$(get sqlite.detail.rps)" "$(get postgres.detail.rps)" ">= 10,000 / >= 5,000" \
        "$(verdict "$(get sqlite.detail.rps)" '>=' 10000) / $(verdict "$(get postgres.detail.rps)" '>=' 5000)"
    printf "$fmt" "detail p50 ms" "$(get sqlite.detail.p50)" "$(get postgres.detail.p50)" "" ""
    printf "$fmt" "detail p99 ms" "$(get sqlite.detail.p99)" "$(get postgres.detail.p99)" "< 10 (SQLite)" \
        "$(verdict "$(get sqlite.detail.p99)" '<' 10) / –"
    printf "$fmt" "detail PG/SQLite req/s" "" "$RATIO" ">= 0.50" "$(verdict "$RATIO" '>=' 0.5)"
    printf "$fmt" "detail non-2xx responses" "$(get sqlite.detail.bad)" "$(get postgres.detail.bad)" "0" ""
    printf "$fmt" "detail, all $N_ALL: req/s" "$(get sqlite.all.rps)" "$(get postgres.all.rps)" "" ""
    printf "$fmt" "detail, all: p50 ms" "$(get sqlite.all.p50)" "$(get postgres.all.p50)" "" ""
    printf "$fmt" "detail, all: p99 ms" "$(get sqlite.all.p99)" "$(get postgres.all.p99)" "" ""
    printf "$fmt" "detail, all: non-2xx" "$(get sqlite.all.bad)" "$(get postgres.all.bad)" "0" ""
    printf "$fmt" "list page 1 req/s" "$(get sqlite.list.rps)" "$(get postgres.list.rps)" "" ""
    printf "$fmt" "list page 1 p50 ms" "$(get sqlite.list.p50)" "$(get postgres.list.p50)" "" ""
    printf "$fmt" "list page 1 p99 ms" "$(get sqlite.list.p99)" "$(get postgres.list.p99)" "< 5" \
        "$(verdict "$(get sqlite.list.p99)" '<' 5) / $(verdict "$(get postgres.list.p99)" '<' 5)"
    printf "$fmt" "list non-2xx responses" "$(get sqlite.list.bad)" "$(get postgres.list.bad)" "0" ""
    printf '\n%-22s %-22s %-10s %s\n' "machine during" "load avg 1/5/15 at end" "other CPU" "socket errors"
    for label in sqlite postgres; do
        [[ -n ${RES[$label.import.other]:-} ]] &&
            printf '  %-20s %-22s %-10s\n' "import $label" "" "${RES[$label.import.other]}%"
        for what in detail all list; do
            [[ -n ${RES[$label.$what.load]:-} ]] || continue
            printf '  %-20s %-22s %-10s %s\n' "${what/all/detail-all} $label" "${RES[$label.$what.load]}" \
                "${RES[$label.$what.other]}%" "${RES[$label.$what.err]}"
        done
    done
    printf '(other CPU: share of all cores used by processes other than the server, wrk and PostgreSQL)\n' 
    printf '\nwhole run: %d s\n' "$ELAPSED"
} | tee "$RESULTS"
log "results saved to $RESULTS"
