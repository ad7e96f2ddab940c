#!/usr/bin/env bash
# Benchmarks arkiv's search on this machine, on the generated corpus and its
# rotating query set (make-corpus --queries):
#
#   1. /v1/search latency, 4 clients, response cache off (ARKIV_CACHE_MB=0);
#      then /v1/search/suggest latency, the same clients, typing the first
#      three words of 500 titles keystroke by keystroke; after the load,
#      the server's resident set against the index size;
#   2. full reindex: MB/s of text, index size on disk / text size;
#   3. time from a write (`arkiv import` of one publication) to its
#      visibility in /v1/search, polled every 10 ms;
#   4. the same queries, clients and time bound against PostgreSQL full-text
#      search (tsvector 'simple', GIN, websearch_to_tsquery, ts_rank_cd) and
#      SQLite FTS5 (bm25), loaded from the same corpus.
#
#   bench/search.sh                               # 50,000 publications, 20 s runs
#   PUBLICATIONS=20000 DURATION=10 bench/search.sh
#
# Settings (environment):
#   PUBLICATIONS  publications in the generated corpus        (50000)
#   SEED          corpus seed                                 (1)
#   DURATION      seconds of each measured latency run        (20)
#   WARMUP        unmeasured seconds before each              (3)
#   CLIENTS       concurrent clients (threads, connections)   (4)
#   WORKERS       server worker threads (serve --workers)     (2)
#   TRIES         write-to-visibility tries (median)          (5)
#   WRK           1: also measure arkiv with wrk -c$CLIENTS   (1)
#   SYSTEMS       which to run                ("arkiv pg fts5")
#   PORT, PG_PORT, PG_BIN, QUIET_WAIT, QUIET_MAX, ARKIV_BIN   as in run.sh
#   SEARCH_BIN    use this bench driver instead of building benches/search.rs
#
# The latency figures of all three systems come from the same client:
# benches/search.rs (`cargo bench --bench search`), CLIENTS threads each with
# its own connection (raw HTTP/1.1 keep-alive for arkiv, diesel for
# PostgreSQL and SQLite), each walking the query set from its own offset.
# Everything goes to bench/.work/ (ignored by git); the results to
# bench/.work/search-results-*.txt. Servers listen on 127.0.0.1 only; the
# server and the PostgreSQL cluster are stopped on exit.
set -euo pipefail

PUBLICATIONS=${PUBLICATIONS:-50000}
SEED=${SEED:-1}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
CLIENTS=${CLIENTS:-4}
WORKERS=${WORKERS:-2}
TRIES=${TRIES:-5}
WRK=${WRK:-1}
SYSTEMS=${SYSTEMS:-arkiv pg fts5}
PORT=${PORT:-18081}
PG_PORT=${PG_PORT:-55432}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
QUIET_WAIT=${QUIET_WAIT:-120}
QUIET_MAX=${QUIET_MAX:-10}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work
MAKE_CORPUS=${MAKE_CORPUS:-$ROOT/../shared/tools/make-corpus}
HOST=127.0.0.1
BASE=http://$HOST:$PORT

export ARKIV_LOG=${ARKIV_LOG:-warn}
# One load generator is one client: the per-client rate limit would measure
# itself, not the server.
export ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
export SEARCH_DURATION=$DURATION SEARCH_WARMUP=$WARMUP SEARCH_CLIENTS=$CLIENTS
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_WORKERS ARKIV_CACHE_MB || true

STARTED=$(date +%s)
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

mkdir -p "$WORK/bin"

# --- cleanup (as in run.sh) --------------------------------------------------
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

# --- who else uses the CPU (from run.sh) -------------------------------------
# "other CPU": the share of the machine's CPU (all cores) used by processes
# other than the server, PostgreSQL and this script's children (the bench
# driver, wrk) during a measured run. Before each, wait up to QUIET_WAIT s
# for it to be under QUIET_MAX percent.
CLK_TCK=$(getconf CLK_TCK)
machine_jiffies() {
    awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6; exit }' /proc/stat
}
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
TIMES_FILE=$WORK/.search-times
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
wait_quiet() {
    local waited=0
    while :; do
        cpu_mark
        sleep 3
        cpu_other
        ((CPU_OTHER < QUIET_MAX)) && break
        if ((waited >= QUIET_WAIT)); then
            log "the machine is still busy (other CPU ${CPU_OTHER}%): measuring anyway"
            break
        fi
        ((waited == 0)) && log "waiting for the machine to be quiet (other CPU ${CPU_OTHER}%, up to ${QUIET_WAIT} s)"
        waited=$((waited + 3))
    done
}

declare -A RES
# result LINE PREFIX: stores every key=value of a "RESULT name=X ..." line
# as RES[PREFIX.key].
result() {
    local line=$1 prefix=$2 kv
    for kv in ${line#RESULT }; do
        RES[$prefix.${kv%%=*}]=${kv#*=}
    done
}
# driver PREFIX ARGS...: runs the bench driver (between cpu_mark and
# cpu_other), keeps its RESULT lines, and RES[PREFIX.other].
driver() {
    local prefix=$1 out=$WORK/search-$1.txt
    shift
    wait_quiet
    cpu_mark
    "$DRIVER" "$@" >"$out" 2>"$WORK/search-$prefix.log" \
        || { tail -20 "$WORK/search-$prefix.log" >&2; die "$prefix: the bench driver failed"; }
    cpu_other
    RES[$prefix.other]=$CPU_OTHER
    local line
    while IFS= read -r line; do
        log "$prefix: ${line#RESULT }"
        local name=${line#RESULT name=}
        name=${name%% *}
        result "$line" "$name"
    done < <(grep '^RESULT ' "$out")
    log "$prefix: other CPU ${CPU_OTHER}%"
}

# --- 1. build ------------------------------------------------------------------
# Both binaries are copied to bench/.work/bin, so that a rebuild meanwhile
# (someone editing the sources) does not change them under the run.
if [[ -z ${ARKIV_BIN:-} ]]; then
    log "building (cargo build --profile dist; cargo bench --bench search --no-run)"
    (cd "$ROOT" && cargo build --profile dist --quiet)
    cp "$ROOT/target/dist/arkiv" "$WORK/bin/arkiv"
    BIN=$WORK/bin/arkiv
else
    BIN=$ARKIV_BIN
fi
[[ -x $BIN ]] || die "$BIN was not built"
if [[ -n ${SEARCH_BIN:-} ]]; then
    DRIVER_BUILT=$SEARCH_BIN
else
DRIVER_BUILT=$(cd "$ROOT" && cargo bench --bench search --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "search" and m.get("executable"):
        print(m["executable"])')
fi
[[ -x $DRIVER_BUILT ]] || die "the bench driver (benches/search.rs) was not built"
cp "$DRIVER_BUILT" "$WORK/bin/search"
DRIVER=$WORK/bin/search

# --- 2. corpus and queries -----------------------------------------------------
CORPUS=$WORK/corpus-$PUBLICATIONS-seed$SEED.ndjson
QUERIES=$WORK/queries-$PUBLICATIONS-seed$SEED.txt
count_publications() { grep -c '^{"type": "publication"' "$1" || true; }
if [[ -s $CORPUS && $(count_publications "$CORPUS") == "$PUBLICATIONS" && -s $QUERIES ]]; then
    log "reusing $CORPUS and $QUERIES"
else
    # The query set is drawn after the corpus from the same generator, so
    # both come from one run.
    log "generating $PUBLICATIONS publications and the query set (seed $SEED)"
    python3 "$MAKE_CORPUS" --publications "$PUBLICATIONS" --seed "$SEED" \
        --queries "$QUERIES.tmp" >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
    mv "$QUERIES.tmp" "$QUERIES"
fi
N_QUERIES=$(wc -l <"$QUERIES")
"$DRIVER" text-size "$CORPUS" >"$WORK/search-text.txt"
result "$(grep '^RESULT ' "$WORK/search-text.txt")" text
TEXT_BYTES=${RES[text.bytes]}
log "corpus: ${RES[text.publications]} published publications, ${RES[text.variants]} variants, $TEXT_BYTES bytes of text; $N_QUERIES queries"

# --- 3. arkiv --------------------------------------------------------------------
if [[ " $SYSTEMS " == *" arkiv "* ]]; then
    export ARKIV_DATA_DIR=$WORK/search-sqlite ARKIV_CACHE_MB=0
    rm -rf "$ARKIV_DATA_DIR"
    log "arkiv: importing into SQLite"
    "$BIN" import "$CORPUS" 2>"$WORK/search-import.log" \
        || { tail -20 "$WORK/search-import.log" >&2; die "import failed"; }
    wait_quiet
    log "arkiv: reindexing"
    cpu_mark
    t0=$(now)
    "$BIN" reindex 2>"$WORK/search-reindex.log" \
        || { cat "$WORK/search-reindex.log" >&2; die "reindex failed"; }
    t1=$(now)
    cpu_other
    RES[reindex.other]=$CPU_OTHER
    RES[reindex.s]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    RES[reindex.printed]=$(tail -1 "$WORK/search-reindex.log")
    RES[reindex.mbps]=$(awk -v n="$TEXT_BYTES" -v s="${RES[reindex.s]}" 'BEGIN { printf "%.2f", n / 1e6 / s }')
    RES[reindex.size]=$(du -sb "$ARKIV_DATA_DIR/index" | cut -f1)
    RES[reindex.ratio]=$(awk -v i="${RES[reindex.size]}" -v n="$TEXT_BYTES" 'BEGIN { printf "%.3f", i / n }')
    log "arkiv: ${RES[reindex.printed]} (wall ${RES[reindex.s]} s: ${RES[reindex.mbps]} MB/s; index ${RES[reindex.size]} bytes, ${RES[reindex.ratio]}x the text; other CPU ${CPU_OTHER}%)"

    port_busy "$PORT" && die "port $PORT is already in use (set PORT)"
    "$BIN" serve --bind "$HOST:$PORT" --no-demo --workers "$WORKERS" >"$WORK/search-serve.log" 2>&1 &
    SERVER_PID=$!
    tries=0
    until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/search-serve.log" >&2; die "the server exited"; }
        ((++tries > 300)) && die "not ready after 30 s"
        sleep 0.1
    done
    code=$(curl -s -o "$WORK/search-sample.json" -w '%{http_code}' "$BASE/v1/search?q=europe&limit=10")
    [[ $code == 200 ]] || die "GET /v1/search?q=europe answered $code"
    log "arkiv: serving on $BASE (pid $SERVER_PID, $WORKERS workers, ARKIV_CACHE_MB=0)"

    driver arkiv arkiv "$BASE" "$QUERIES"
    driver suggest suggest "$BASE" "$CORPUS"

    if [[ $WRK == 1 ]] && command -v wrk >/dev/null; then
        # Cross-check with wrk: the same paths, URL-encoded, rotated by Lua.
        python3 - "$QUERIES" "$WORK/search-paths.txt" <<'EOF'
import sys, urllib.parse
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w") as out:
    for q in src:
        q = q.strip()
        if q:
            out.write("/v1/search?q=" + urllib.parse.quote(q, safe="") + "&limit=10\n")
EOF
        cat >"$WORK/search.lua" <<'EOF'
local paths, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = wrk.format("GET", line) end
  i = math.random(#paths) - 1
end
function request()
  i = i % #paths + 1
  return paths[i]
end
EOF
        wrk -t1 -c"$CLIENTS" -d"${WARMUP}s" -s "$WORK/search.lua" "$BASE" -- "$WORK/search-paths.txt" >/dev/null 2>&1
        wait_quiet
        cpu_mark
        wrk -t1 -c"$CLIENTS" -d"${DURATION}s" --latency -s "$WORK/search.lua" "$BASE" \
            -- "$WORK/search-paths.txt" >"$WORK/search-wrk.txt" 2>&1
        cpu_other
        to_ms() {
            awk -v v="$1" 'BEGIN {
                if (v ~ /us$/)      { sub(/us$/, "", v); printf "%.3f", v / 1000 }
                else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
                else if (v ~ /s$/)  { sub(/s$/, "", v);  printf "%.3f", v * 1000 }
                else                { printf "nan" } }'
        }
        RES[wrk.p50_ms]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$WORK/search-wrk.txt")")
        RES[wrk.p99_ms]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/search-wrk.txt")")
        RES[wrk.qps]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$WORK/search-wrk.txt")
        RES[wrk.errors]=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$WORK/search-wrk.txt")
        RES[wrk.errors]=${RES[wrk.errors]:-0}
        RES[wrk.other]=$CPU_OTHER
        log "arkiv (wrk): ${RES[wrk.qps]} req/s, p50 ${RES[wrk.p50_ms]} ms, p99 ${RES[wrk.p99_ms]} ms, non-2xx ${RES[wrk.errors]}; other CPU ${CPU_OTHER}%"
    fi

    # Memory after the load: the server's resident set against the index
    # size (target: under 1.5x), and its proportional set (each page once).
    RES[rss.kb]=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
    RES[rss.hwm_kb]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    RES[rss.anon_kb]=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status")
    RES[rss.pss_kb]=$(awk '/^Pss:/ { print $2 }' "/proc/$SERVER_PID/smaps_rollup")
    RES[rss.ratio]=$(awk -v r="${RES[rss.kb]}" -v i="${RES[reindex.size]}" 'BEGIN { printf "%.2f", r * 1024 / i }')
    log "arkiv: RSS ${RES[rss.kb]} kB after the load (${RES[rss.ratio]}x the index; peak ${RES[rss.hwm_kb]} kB, anonymous ${RES[rss.anon_kb]} kB)"

    driver visibility visibility "$BASE" "$BIN" "$TRIES"
    stop_server
    unset ARKIV_DATA_DIR ARKIV_CACHE_MB
fi

# --- 4. SQLite FTS5 ----------------------------------------------------------------
if [[ " $SYSTEMS " == *" fts5 "* ]]; then
    log "fts5: loading $WORK/search-fts5.db, then querying"
    driver fts5 fts5 "$WORK/search-fts5.db" "$QUERIES" "$CORPUS"
fi

# --- 5. PostgreSQL full-text search --------------------------------------------------
if [[ " $SYSTEMS " == *" pg "* ]]; then
    [[ -x $PG_BIN/initdb ]] || die "no PostgreSQL at $PG_BIN (set PG_BIN)"
    port_busy "$PG_PORT" && die "port $PG_PORT is already in use (set PG_PORT)"
    PG_ROOT=$(mktemp -d /tmp/arkiv-search-pg.XXXXXX)
    chown postgres: "$PG_ROOT"
    chmod 700 "$PG_ROOT"
    log "pg: initdb in $PG_ROOT, port $PG_PORT"
    (cd /tmp && runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_ROOT/data" -U postgres \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8) >"$WORK/search-initdb.log" 2>&1 \
        || { cat "$WORK/search-initdb.log" >&2; die "initdb failed"; }
    (cd /tmp && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/postgres.log" \
        -o "-p $PG_PORT -k /tmp -c listen_addresses=$HOST" -w start) >/dev/null \
        || { cat "$PG_ROOT/postgres.log" >&2; die "PostgreSQL did not start"; }
    log "pg: loading, then querying"
    driver pg pg "postgres://postgres@$HOST:$PG_PORT/postgres" "$QUERIES" "$CORPUS"
    cp "$PG_ROOT/postgres.log" "$WORK/search-postgres.log" 2>/dev/null || true
    stop_postgres
fi

# --- 6. summary ----------------------------------------------------------------------
get() { echo "${RES[$1]:-–}"; }
ratio() {
    [[ -n ${RES[$1]:-} && -n ${RES[$2]:-} ]] || { echo "–"; return; }
    awk -v a="${RES[$1]}" -v b="${RES[$2]}" 'BEGIN { printf (b > 0) ? "%.1f" : "–", a / b }'
}
verdict() {
    [[ $1 == – || $1 == nan || -z $1 ]] && { echo "–"; return; }
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == ">=") ? (v >= l) : (op == "<=") ? (v <= l) : (v < l); print ok ? "ok" : "MISS" }'
}
PG_RATIO=$(ratio pg.p99_ms arkiv.p99_ms)
FTS5_RATIO=$(ratio fts5.p99_ms arkiv.p99_ms)
ELAPSED=$(($(date +%s) - STARTED))
RESULTS=$WORK/search-results-$(date +%Y%m%d-%H%M%S).txt
{
    printf 'arkiv search benchmark, %s, commit %s%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
        "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$([[ -n $(git -C "$ROOT" status --porcelain -- src migrations Cargo.toml Cargo.lock 2>/dev/null) ]] &&
            echo ' + uncommitted changes')"
    printf 'machine: %s cores; %s published publications (%s variants, %s MB of title+summary+body);\n' \
        "$(nproc)" "$(get text.publications)" "$(get text.variants)" \
        "$(awk -v n="$TEXT_BYTES" 'BEGIN { printf "%.1f", n / 1e6 }')"
    printf '%s rotating queries; %s clients, %s s measured after %s s warm-up, each system alone;\n' \
        "$N_QUERIES" "$CLIENTS" "$DURATION" "$WARMUP"
    printf 'client: benches/search.rs for all three (own connection per thread; HTTP/1.1 keep-alive to\n'
    printf 'arkiv serve --workers %s with ARKIV_CACHE_MB=0, diesel to PostgreSQL 15 and to SQLite FTS5)\n\n' "$WORKERS"
    fmt='%-30s %12s %12s %12s   %-14s %s\n'
    printf "$fmt" "" arkiv "PG FTS" "SQLite FTS5" target met
    printf "$fmt" "search p50 ms" "$(get arkiv.p50_ms)" "$(get pg.p50_ms)" "$(get fts5.p50_ms)" "< 2 (arkiv)" \
        "$(verdict "$(get arkiv.p50_ms)" '<' 2)"
    printf "$fmt" "search p90 ms" "$(get arkiv.p90_ms)" "$(get pg.p90_ms)" "$(get fts5.p90_ms)" "" ""
    printf "$fmt" "search p99 ms" "$(get arkiv.p99_ms)" "$(get pg.p99_ms)" "$(get fts5.p99_ms)" "< 20 (arkiv)" \
        "$(verdict "$(get arkiv.p99_ms)" '<' 20)"
    printf "$fmt" "search max ms" "$(get arkiv.max_ms)" "$(get pg.max_ms)" "$(get fts5.max_ms)" "" ""
    printf "$fmt" "queries/s" "$(get arkiv.qps)" "$(get pg.qps)" "$(get fts5.qps)" "" ""
    printf "$fmt" "queries measured" "$(get arkiv.queries)" "$(get pg.queries)" "$(get fts5.queries)" "" ""
    printf "$fmt" "errors" "$(get arkiv.errors)" "$(get pg.errors)" "$(get fts5.errors)" "0" ""
    printf "$fmt" "queries with no hit %" "$(get arkiv.zero_hit_pct)" "$(get pg.zero_hit_pct)" "$(get fts5.zero_hit_pct)" "" ""
    # DESIGN.md asks for 10x PostgreSQL's p99 (the issue for 5x) and 3x FTS5's.
    printf "$fmt" "p99 / arkiv p99" "1.0" "$PG_RATIO" "$FTS5_RATIO" ">= 10 (PG)" "$(verdict "$PG_RATIO" '>=' 10)"
    printf "$fmt" "" "" "" "" ">= 3 (FTS5)" "$(verdict "$FTS5_RATIO" '>=' 3)"
    printf "$fmt" "build: MB/s of text" "$(get reindex.mbps)" "$(get pg-load.mb_per_s)" "$(get fts5-load.mb_per_s)" ">= 10 (arkiv)" \
        "$(verdict "$(get reindex.mbps)" '>=' 10)"
    printf "$fmt" "build: seconds" "$(get reindex.s)" "$(get pg-load.load_s)" "$(get fts5-load.load_s)" "" ""
    printf "$fmt" "index size / text" "$(get reindex.ratio)" "$(get pg-load.size_over_text)" "$(get fts5-load.size_over_text)" "<= 0.6 (arkiv)" \
        "$(verdict "$(get reindex.ratio)" '<=' 0.6)"
    mb() { [[ -n ${RES[$1]:-} ]] && awk -v n="${RES[$1]}" 'BEGIN { printf "%.1f", n / 1e6 }' || echo "–"; }
    printf "$fmt" "index size MB" "$(mb reindex.size)" "$(mb pg-load.size_bytes)" "$(mb fts5-load.size_bytes)" "" ""
    printf "$fmt" "write -> visible, median ms" "$(get visibility.median_after_import_ms)" "" "" "< 1000" \
        "$(verdict "$(get visibility.median_after_import_ms)" '<' 1000)"
    printf "$fmt" "write -> visible, max ms" "$(get visibility.max_after_import_ms)" "" "" "" ""
    printf "$fmt" "import start -> visible, med" "$(get visibility.median_from_import_start_ms)" "" "" "" ""
    kb_mb() { [[ -n ${RES[$1]:-} ]] && awk -v n="${RES[$1]}" 'BEGIN { printf "%.1f", n * 1024 / 1e6 }' || echo "–"; }
    printf "$fmt" "server RSS after load MB" "$(kb_mb rss.kb)" "" "" "" ""
    printf "$fmt" "RSS / index size" "$(get rss.ratio)" "" "" "< 1.5" "$(verdict "$(get rss.ratio)" '<' 1.5)"
    printf "$fmt" "RSS peak / anonymous / PSS MB" "$(kb_mb rss.hwm_kb) / $(kb_mb rss.anon_kb) / $(kb_mb rss.pss_kb)" "" "" "" ""
    printf "$fmt" "suggest p50 ms" "$(get suggest.p50_ms)" "" "" "" ""
    printf "$fmt" "suggest p99 ms" "$(get suggest.p99_ms)" "" "" "" ""
    printf "$fmt" "suggest requests/s" "$(get suggest.qps)" "" "" "" ""
    printf '\n'
    printf 'arkiv with wrk -t1 -c%s (cross-check): p50 %s ms, p99 %s ms, %s req/s, non-2xx %s\n' \
        "$CLIENTS" "$(get wrk.p50_ms)" "$(get wrk.p99_ms)" "$(get wrk.qps)" "$(get wrk.errors)"
    printf 'reindex: %s (wall-clock %s s, process start to exit, used for MB/s)\n' \
        "$(get reindex.printed)" "$(get reindex.s)"
    printf 'write -> visible: from the end of `arkiv import` (one publication, made-up title word) to\n'
    printf '  /v1/search?q=WORD answering total 1, polled every 10 ms; median of %s; the import itself\n' "$TRIES"
    printf '  took %s ms (median)\n' "$(get visibility.median_import_ms)"
    printf 'build: arkiv = `arkiv reindex`; PG = INSERT of to_tsvector + GIN + VACUUM ANALYZE;\n'
    printf '  FTS5 = INSERT into a contentless fts5 table + optimize. Sizes: du of DATA_DIR/index,\n'
    printf '  pg_total_relation_size, the SQLite file\n'
    printf 'other CPU %% (others than us, all cores) during: reindex %s, arkiv %s, wrk %s, visibility %s, fts5 %s, pg %s\n' \
        "$(get reindex.other)" "$(get arkiv.other)" "$(get wrk.other)" "$(get visibility.other)" \
        "$(get fts5.other)" "$(get pg.other)"
    printf '\nwhole run: %d s\n' "$ELAPSED"
} | tee "$RESULTS"
log "results saved to $RESULTS"
