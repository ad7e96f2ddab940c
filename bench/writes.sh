#!/usr/bin/env bash
# Benchmarks single API writes: one keep-alive client (bench/writes.py)
# timing PATCH of a publication (a merge patch with If-Match) and POST of a
# new publication, on archives of 50 and 50,000 publications, on SQLite and
# PostgreSQL. A write should cost the same in both: it looks up only the
# slugs it names. Also times `arkiv import` of each corpus.
#
#   bench/writes.sh                                  # this tree, dist build
#   BEFORE_BIN=/path/to/old/arkiv bench/writes.sh    # and another binary, side by side
#   SIZES=50 BACKENDS=sqlite REQUESTS=100 bench/writes.sh   # quicker
#
# Settings (environment):
#   SIZES        archive sizes, in publications              ("50 50000")
#   BACKENDS     which to run                                ("sqlite postgres")
#   REQUESTS     measured writes of each kind                (300)
#   WARMUP       unmeasured writes before them               (30)
#   TIME_LIMIT   seconds one kind of write may take at most  (120)
#   WORKERS      server worker threads (serve --workers)     (2)
#   SEED         corpus seed                                 (1)
#   PORT         the server's port on 127.0.0.1              (18095)
#   PG_URL       a PostgreSQL server; the database $PG_DB is created in it
#                and dropped after   (postgres://postgres@127.0.0.1:25432/postgres)
#   PG_DB        that database's name                        (arkiv_bench_writes)
#   ARKIV_BIN    the binary to measure (default: `cargo build --profile dist` of
#                this tree)
#   BEFORE_BIN   another binary (say, the base commit's) measured the same
#                way in the same run; the table shows both
#   THREADS      1: also log the server's CPU time by thread name
#
# Everything goes to bench/.work/ (ignored by git): the corpora (shared with
# run.sh and search.sh), data dirs, logs, and the summary as
# bench/.work/writes-results-*.txt. Rate limits are off (one client is
# one address); the server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

SIZES=${SIZES:-50 50000}
BACKENDS=${BACKENDS:-sqlite postgres}
REQUESTS=${REQUESTS:-300}
WARMUP=${WARMUP:-30}
TIME_LIMIT=${TIME_LIMIT:-120}
WORKERS=${WORKERS:-2}
SEED=${SEED:-1}
PORT=${PORT:-18095}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:25432/postgres}
PG_DB=${PG_DB:-arkiv_bench_writes}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work
MAKE_CORPUS=${MAKE_CORPUS:-$ROOT/../shared/tools/make-corpus}
HOST=127.0.0.1
BASE=http://$HOST:$PORT

export ARKIV_LOG=${ARKIV_LOG:-warn}
export ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_WORKERS ARKIV_CACHE_MB || true

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

mkdir -p "$WORK/bin"

# --- cleanup -------------------------------------------------------------------
SERVER_PID=
PG_MADE=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
drop_database() {
    if [[ -n $PG_MADE ]]; then
        psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
        PG_MADE=
    fi
}
trap 'stop_server; drop_database' EXIT
trap 'exit 130' INT TERM

# --- 1. binaries ---------------------------------------------------------------
# Copied to bench/.work/bin, so that a rebuild meanwhile does not change them
# under the run.
if [[ -z ${ARKIV_BIN:-} ]]; then
    log "building (cargo build --profile dist)"
    (cd "$ROOT" && cargo build --profile dist --quiet)
    ARKIV_BIN=$ROOT/target/dist/arkiv
fi
[[ -x $ARKIV_BIN ]] || die "$ARKIV_BIN is not an executable"
cp "$ARKIV_BIN" "$WORK/bin/arkiv-writes-after"
LABELS=(after)
declare -A BIN=([after]=$WORK/bin/arkiv-writes-after)
if [[ -n ${BEFORE_BIN:-} ]]; then
    [[ -x $BEFORE_BIN ]] || die "$BEFORE_BIN is not an executable"
    cp "$BEFORE_BIN" "$WORK/bin/arkiv-writes-before"
    BIN[before]=$WORK/bin/arkiv-writes-before
    LABELS=(before after)
fi
if [[ " $BACKENDS " == *" postgres "* ]]; then
    command -v psql >/dev/null || die "PostgreSQL runs need psql"
    psql "$PG_URL" -qAt -c "SELECT 1" >/dev/null || die "cannot reach $PG_URL (set PG_URL)"
fi

# --- 2. corpora ----------------------------------------------------------------
count_publications() { grep -c '^{"type": "publication"' "$1" || true; }
corpus_of() { echo "$WORK/corpus-$1-seed$SEED.ndjson"; }
for size in $SIZES; do
    corpus=$(corpus_of "$size")
    if [[ -s $corpus && $(count_publications "$corpus") == "$size" ]]; then
        log "reusing $corpus"
    else
        log "generating $size publications (seed $SEED)"
        python3 "$MAKE_CORPUS" --publications "$size" --seed "$SEED" >"$corpus.tmp"
        mv "$corpus.tmp" "$corpus"
    fi
done

# --- 3. one archive: import, key, serve, measure ---------------------------------
declare -A RES
CLK_TCK=$(getconf CLK_TCK)
# server_cpu: "INDEXER OTHER", the CPU time (jiffies) the server's search
# indexer thread and the rest of it (HTTP workers, the database calls) have
# used so far. Tells whether the indexer's work after each write (a commit
# per batch of changes) is what a write costs.
server_cpu() {
    local indexer=0 total task
    total=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$SERVER_PID/stat")
    for task in /proc/"$SERVER_PID"/task/*; do
        [[ $(cat "$task/comm" 2>/dev/null) == indexer ]] || continue
        indexer=$((indexer + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$task/stat")))
    done
    echo "$indexer $((total - indexer))"
}
# thread_cpu: "NAME JIFFIES" per thread name of the server (THREADS=1).
thread_cpu() {
    local task
    for task in /proc/"$SERVER_PID"/task/*; do
        printf '%s %s\n' "$(tr ' ' '_' <"$task/comm")" \
            "$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$task/stat")"
    done 2>/dev/null | awk '{ cpu[$1] += $2 } END { for (n in cpu) print n, cpu[n] }'
}
# wait_indexed KEY: until the search index has applied every change (at
# most 60 s).
wait_indexed() {
    local tries=0 lag
    while :; do
        lag=$(curl -fsS -H "Authorization: Bearer $1" "$BASE/metrics" 2>/dev/null |
            awk '$1 == "arkiv_index_lag" { print $2 }')
        [[ ${lag:-0} == 0 ]] && return 0
        ((++tries > 120)) && { log "the index still lags by $lag changes"; return 0; }
        sleep 0.5
    done
}
# database_for LABEL BACKEND SIZE: points ARKIV_DATA_DIR (and for
# PostgreSQL ARKIV_DATABASE_URL) at an empty archive.
database_for() {
    local label=$1 backend=$2 size=$3
    export ARKIV_DATA_DIR=$WORK/writes-$label-$backend-$size
    rm -rf "$ARKIV_DATA_DIR"
    mkdir -p "$ARKIV_DATA_DIR"
    if [[ $backend == postgres ]]; then
        drop_database
        psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null \
            || die "could not create database $PG_DB in $PG_URL"
        PG_MADE=1
        local base=${PG_URL%%\?*} query=
        [[ $PG_URL == *\?* ]] && query="?${PG_URL#*\?}"
        export ARKIV_DATABASE_URL="${base%/*}/$PG_DB$query"
    else
        unset ARKIV_DATABASE_URL
    fi
}

measure() {
    local label=$1 backend=$2 size=$3 bin=${BIN[$1]} corpus
    local run=$label-$backend-$size
    corpus=$(corpus_of "$size")
    database_for "$label" "$backend" "$size"
    log "$run: importing $(basename "$corpus")"
    local t0 t1
    t0=$(now)
    "$bin" import "$corpus" 2>"$WORK/writes-import-$run.log" \
        || { tail -20 "$WORK/writes-import-$run.log" >&2; die "$run: import failed"; }
    t1=$(now)
    RES[$run.import]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    log "$run: imported in ${RES[$run.import]} s"
    # The index is built before the server starts (the indexer would
    # otherwise apply the import's 50,000 changes while writes are timed).
    "$bin" reindex 2>"$WORK/writes-reindex-$run.log" \
        || { tail -20 "$WORK/writes-reindex-$run.log" >&2; die "$run: reindex failed"; }
    local key
    key=$("$bin" keys create --role admin --name bench-writes 2>/dev/null | head -1)
    [[ -n $key ]] || die "$run: no key was made"

    port_busy "$PORT" && die "port $PORT is already in use (set PORT)"
    "$bin" serve --bind "$HOST:$PORT" --no-demo --workers "$WORKERS" >"$WORK/writes-serve-$run.log" 2>&1 &
    SERVER_PID=$!
    local tries=0
    until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/writes-serve-$run.log" >&2; die "$run: the server exited"; }
        ((++tries > 600)) && die "$run: not ready after 60 s"
        sleep 0.1
    done
    # Writes are measured against a server at rest.
    wait_indexed "$key"
    local mode line cpu0 cpu1
    for mode in patch post; do
        cpu0=$(server_cpu)
        [[ ${THREADS:-0} == 1 ]] && thread_cpu >"$WORK/writes-$run-$mode.threads0"
        line=$(python3 "$BENCH/writes.py" "$BASE" "$key" "$corpus" "$mode" "$REQUESTS" "$WARMUP" \
            "$TIME_LIMIT" "bench-$run-$(date +%s)" 2>"$WORK/writes-$run-$mode.log" | grep '^RESULT ') \
            || { cat "$WORK/writes-$run-$mode.log" >&2; die "$run: the $mode client failed"; }
        local kv
        for kv in ${line#RESULT }; do
            RES[$run.$mode.${kv%%=*}]=${kv#*=}
        done
        # The CPU each write cost the server, indexing included (its
        # indexer applies the writes after they are answered).
        wait_indexed "$key"
        cpu1=$(server_cpu)
        if [[ ${THREADS:-0} == 1 ]]; then
            thread_cpu >"$WORK/writes-$run-$mode.threads1"
            log "$run: $mode: server CPU by thread (ms, busiest first): $(
                awk -v hz="$CLK_TCK" 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d > 0) printf "%s %.0f\n", $1, d * 1000 / hz }' \
                    "$WORK/writes-$run-$mode.threads0" "$WORK/writes-$run-$mode.threads1" | sort -k2 -nr | head -8 | tr '\n' ';')"
        fi
        read -r RES[$run.$mode.index_cpu] RES[$run.$mode.other_cpu] < <(
            awk -v a="$cpu0" -v b="$cpu1" -v n="$((WARMUP + ${RES[$run.$mode.n]}))" -v hz="$CLK_TCK" 'BEGIN {
                split(a, x, " "); split(b, y, " ")
                printf "%.2f %.2f\n", (y[1] - x[1]) * 1000 / hz / n, (y[2] - x[2]) * 1000 / hz / n }')
        log "$run: ${line#RESULT } server CPU/write: indexer ${RES[$run.$mode.index_cpu]} ms, rest ${RES[$run.$mode.other_cpu]} ms"
    done
    stop_server
    [[ $backend == postgres ]] && drop_database
    return 0
}

for backend in $BACKENDS; do
    for size in $SIZES; do
        for label in "${LABELS[@]}"; do
            measure "$label" "$backend" "$size"
        done
    done
done

# --- 4. summary ----------------------------------------------------------------
SUMMARY=$WORK/writes-results-$(date +%Y%m%d-%H%M%S).txt
{
    echo "single API writes, one keep-alive client: $REQUESTS each after $WARMUP unmeasured; milliseconds"
    echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); serve --workers $WORKERS"
    for label in "${LABELS[@]}"; do echo "$label: ${BIN[$label]} ($(sha256sum "${BIN[$label]}" | cut -c1-12))"; done
    echo
    echo "(cpu: the server's CPU per write, ms: its search indexer thread / the rest)"
    printf '%-8s %-9s %7s %9s %9s %9s %11s %9s %9s %11s %7s\n' binary backend size import_s \
        patch_p50 patch_p99 patch_cpu post_p50 post_p99 post_cpu failed
    for backend in $BACKENDS; do
        for size in $SIZES; do
            for label in "${LABELS[@]}"; do
                run=$label-$backend-$size
                printf '%-8s %-9s %7s %9s %9s %9s %11s %9s %9s %11s %7s\n' "$label" "$backend" "$size" \
                    "${RES[$run.import]}" "${RES[$run.patch.p50]}" "${RES[$run.patch.p99]}" \
                    "${RES[$run.patch.index_cpu]}/${RES[$run.patch.other_cpu]}" \
                    "${RES[$run.post.p50]}" "${RES[$run.post.p99]}" \
                    "${RES[$run.post.index_cpu]}/${RES[$run.post.other_cpu]}" \
                    "$((${RES[$run.patch.failed]} + ${RES[$run.post.failed]}))"
            done
        done
    done
    # The targets: p50 <= 5 ms at the largest size on SQLite, and the
    # largest size within 1.5x (+1 ms) of the smallest.
    read -r small large <<<"$(tr ' ' '\n' <<<"$SIZES" | sort -n | sed -n '1p;$p' | tr '\n' ' ')"
    if [[ $small != "$large" ]]; then
        echo
        for backend in $BACKENDS; do
            for label in "${LABELS[@]}"; do
                for mode in patch post; do
                    a=${RES[$label-$backend-$small.$mode.p50]} b=${RES[$label-$backend-$large.$mode.p50]}
                    awk -v l="$label" -v be="$backend" -v m="$mode" -v a="$a" -v b="$b" -v s="$small" -v L="$large" 'BEGIN {
                        ratio = b / a; flat = (b <= 1.5 * a + 1) ? "ok" : "MISS"
                        abs = (be != "sqlite") ? "" : (b <= 5 ? ", <= 5 ms: ok" : ", <= 5 ms: MISS")
                        printf "%-6s %-8s %-5s p50 %s: %.2f ms, %s: %.2f ms (x%.2f; within 1.5x+1ms: %s%s)\n", l, be, m, s, a, L, b, ratio, flat, abs }'
                done
            done
        done
    fi
} | tee "$SUMMARY"
log "summary: $SUMMARY"
