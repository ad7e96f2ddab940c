#!/usr/bin/env bash
# Speed without the response cache (ARKIV_CACHE_MB=0), on SQLite, each
# figure printed beside its target:
#
#   1. GET /v1/publications/{id-or-slug} (bench/detail.lua, rotating over a
#      few thousand published ids and slugs) against GET /healthz, in
#      alternating measured runs, with stored rendered documents off and on
#      (ARKIV_DOCUMENTS): requests/s, p50, p99 and the ratio detail/healthz
#      of each round; target: the median ratio >= 0.35;
#   2. a full rebuild of the search index (POST /v1/admin/reindex) on the
#      server of the "on" runs: seconds, then the server's resident set
#      against the index size 0, 30 and 60 s later; target: <= 1.5x;
#   3. a large `arkiv import` into a new, empty data dir while a server runs
#      on it (its indexer follows the change log): once the index has caught
#      up, the resident set against the index size 0, 30 and 60 s later;
#      target: <= 1.5x.
#
# Usage: [SETTING=value ...] bench/speed.sh
#
#   bench/speed.sh                                # 50,000 publications, 10 s runs
#   PUBLICATIONS=2000 DURATION=3s WARMUP=2s ROUNDS=1 bench/speed.sh   # a quick try
#
# Settings (environment):
#   PUBLICATIONS  publications in the generated corpus        (50000)
#   SEED          corpus seed                                 (1)
#   KEYS          published publications the detail load rotates
#                 over, ids and slugs alternately              (4000)
#   ROUNDS        healthz/detail pairs of runs per mode        (3)
#   DURATION      length of each measured run                  (10s)
#   WARMUP        unmeasured detail run after each start, so that stored
#                 documents get written                        (5s)
#   CONNECTIONS   wrk -c                                       (16)
#   THREADS       wrk -t                                       (2)
#   WORKERS       server worker threads (serve --workers)      (2)
#   PORT          HTTP port of the server under test           (18095)
#   WAIT_MAX      seconds any import, rebuild or index catch-up may take
#                 before the script gives up                   (1800)
#   ARKIV_BIN     the binary to measure (default: target/dist/arkiv, built
#                 with `cargo build --profile dist` when missing)
#
# Every server runs with ARKIV_CACHE_MB=0 ARKIV_RATE_LIMIT=0
# ARKIV_RATE_LIMIT_KEYED=0 ARKIV_LOG=warn, --workers 2, --no-demo, on
# 127.0.0.1 only; every wrk request carries a browser User-Agent. The binary
# is copied to bench/.work/speed/bin first, so that a rebuild meanwhile does
# not change it under the run. The corpus is bench/.work/corpus-N-seedS.ndjson
# when bench/run.sh or bench/search.sh made it, else one of its own in
# bench/.work/speed/; everything else goes to bench/.work/speed/ (ignored by
# git): the SQLite data dir `data` (imported again only when the corpus
# changed: see data/.speed-corpus), the key list, `import-data` (made afresh
# each run), server logs, raw wrk outputs, and results-*.txt. The server is
# stopped on exit.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi

PUBLICATIONS=${PUBLICATIONS:-50000}
SEED=${SEED:-1}
KEYS=${KEYS:-4000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-2}
PORT=${PORT:-18095}
WAIT_MAX=${WAIT_MAX:-1800}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
SHARED=$BENCH/.work
WORK=$SHARED/speed
MAKE_CORPUS=${MAKE_CORPUS:-$ROOT/../shared/tools/make-corpus}
HOST=127.0.0.1
BASE=http://$HOST:$PORT
UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
# The targets.
RATIO_MIN=0.35
RSS_MAX=1.5

# The environment of every server (and of the commands run beside it).
export ARKIV_CACHE_MB=0 ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
export ARKIV_LOG=${ARKIV_LOG:-warn}
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_WORKERS ARKIV_METRICS_BIND \
    ARKIV_DOCUMENTS ARKIV_NO_DEMO || true

STARTED=$(date +%s)
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

mkdir -p "$WORK/bin"

# --- cleanup -----------------------------------------------------------------
SERVER_PID=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# --- tools and binary ----------------------------------------------------------
if ! command -v wrk >/dev/null; then
    log "wrk is missing: installing it with apt-get"
    { apt-get update -qq && apt-get install -y -qq wrk; } >"$WORK/apt.log" 2>&1 \
        || die "could not install wrk (see $WORK/apt.log)"
fi
if [[ -n ${ARKIV_BIN:-} ]]; then
    SOURCE_BIN=$ARKIV_BIN
else
    SOURCE_BIN=$ROOT/target/dist/arkiv
    if [[ ! -x $SOURCE_BIN ]]; then
        log "building (cargo build --profile dist)"
        (cd "$ROOT" && cargo build --profile dist --quiet)
    fi
fi
[[ -x $SOURCE_BIN ]] || die "$SOURCE_BIN is not an executable"
cp "$SOURCE_BIN" "$WORK/bin/arkiv.tmp"
mv "$WORK/bin/arkiv.tmp" "$WORK/bin/arkiv"
BIN=$WORK/bin/arkiv

# --- helpers -------------------------------------------------------------------
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
# verdict VALUE OP LIMIT: "ok" or "MISS" (or "–" when not measured).
verdict() {
    [[ -z $1 || $1 == – || $1 == nan ]] && { echo "–"; return; }
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == ">=") ? (v >= l) : (v <= l); print ok ? "ok" : "MISS" }'
}

# make_key DATA_DIR: a new admin key for that data dir, on stdout.
make_key() {
    local key
    key=$(ARKIV_DATA_DIR=$1 "$BIN" keys create --role admin --name bench 2>"$WORK/keys.log" |
        grep -o 'arkiv_[A-Za-z0-9_-]*' | head -1) || true
    [[ -n $key ]] || { cat "$WORK/keys.log" >&2; die "could not make an admin key in $1"; }
    echo "$key"
}

# serve LABEL DATA_DIR [ENV=VALUE ...]: starts the server, waits for /readyz.
serve() {
    local label=$1 data=$2
    shift 2
    port_busy "$PORT" && die "port $PORT is already in use (set PORT)"
    env "$@" ARKIV_DATA_DIR="$data" "$BIN" serve --bind "$HOST:$PORT" --no-demo \
        --workers "$WORKERS" >"$WORK/serve-$label.log" 2>&1 &
    SERVER_PID=$!
    local tries=0
    until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve-$label.log" >&2; die "$label: the server exited"; }
        ((++tries > 600)) && die "$label: not ready after 60 s (see $WORK/serve-$label.log)"
        sleep 0.1
    done
    log "$label: serving on $BASE (pid $SERVER_PID, $WORKERS workers${*:+, $*})"
}

# metrics KEY: the server's /metrics.
metrics() {
    curl -fsS -H "Authorization: Bearer $1" "$BASE/metrics" || die "GET /metrics failed"
}
# metric NAME TEXT: the value of the unlabelled metric NAME in TEXT.
metric() { awk -v n="$1" '$1 == n { print $2; exit }' <<<"$2"; }

# wait_index LABEL KEY: waits (up to WAIT_MAX s) until the search index has
# applied the whole change log (arkiv_index_lag 0). Sets CATCHUP_S.
wait_index() {
    local label=$1 key=$2 t0 out lag seq
    t0=$(now)
    while :; do
        out=$(metrics "$key")
        lag=$(metric arkiv_index_lag "$out")
        seq=$(metric arkiv_change_seq "$out")
        [[ -n $lag ]] || die "$label: /metrics has no arkiv_index_lag (no search index?)"
        [[ $lag == 0 ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "$label: the server exited (see $WORK/serve-$label.log)"
        (($(date +%s) - ${t0%.*} > WAIT_MAX)) && die "$label: the index still lags $lag changes after $WAIT_MAX s"
        sleep 2
    done
    CATCHUP_S=$(since "$t0")
    log "$label: the index has applied the change log (arkiv_change_seq $seq, arkiv_index_lag 0; waited $CATCHUP_S s)"
}

declare -A RES
# memory LABEL DATA_DIR: the server's resident set (VmRSS) and the index
# size (du of DATA_DIR/index) now, 30 s and 60 s later, into RES.
memory() {
    local label=$1 data=$2 at rss idx
    for at in 0 30 60; do
        ((at > 0)) && sleep 30
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
        idx=$(du -sk "$data/index" | cut -f1)
        RES[$label.rss$at]=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
        RES[$label.index$at]=$(awk -v k="$idx" 'BEGIN { printf "%.1f", k / 1024 }')
        RES[$label.ratio$at]=$(awk -v r="$rss" -v i="$idx" 'BEGIN { printf "%.2f", (i > 0) ? r / i : 0 }')
        printf '  +%-3s RSS %8s MB   index %8s MB   RSS/index %s\n' "${at}s" \
            "${RES[$label.rss$at]}" "${RES[$label.index$at]}" "${RES[$label.ratio$at]}"
    done
    printf '  RSS/index at +60s: %s   target: <= %s   %s\n' "${RES[$label.ratio60]}" "$RSS_MAX" \
        "$(verdict "${RES[$label.ratio60]}" '<=' "$RSS_MAX")"
}

# --- 1. corpus, data dir, keys ----------------------------------------------------
NAME=corpus-$PUBLICATIONS-seed$SEED.ndjson
count_publications() { grep -c '^{"type": "publication"' "$1" || true; }
CORPUS=
for candidate in "$SHARED/$NAME" "$WORK/$NAME"; do
    if [[ -s $candidate && $(count_publications "$candidate") == "$PUBLICATIONS" ]]; then
        CORPUS=$candidate
        log "reusing $CORPUS"
        break
    fi
done
if [[ -z $CORPUS ]]; then
    CORPUS=$WORK/$NAME
    log "generating $PUBLICATIONS publications (seed $SEED) into $CORPUS"
    python3 "$MAKE_CORPUS" --publications "$PUBLICATIONS" --seed "$SEED" >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi
RECORDS=$(wc -l <"$CORPUS")

# import_into LABEL DATA_DIR: a timed `arkiv import` of the corpus. Sets IMPORT_S.
import_into() {
    local label=$1 data=$2 t0 pid waited=0
    log "$label: importing $CORPUS into $data"
    t0=$(now)
    ARKIV_DATA_DIR=$data "$BIN" import "$CORPUS" >"$WORK/import-$label.log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= WAIT_MAX * 10)); then
            kill "$pid" 2>/dev/null || true
            die "$label: the import took over $WAIT_MAX s (log: $WORK/import-$label.log)"
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$pid" || { tail -20 "$WORK/import-$label.log" >&2; die "$label: import failed (log: $WORK/import-$label.log)"; }
    IMPORT_S=$(since "$t0")
    log "$label: $(tail -1 "$WORK/import-$label.log") (wall $IMPORT_S s)"
}

DATA=$WORK/data
STAMP=$DATA/.speed-corpus
WANT_STAMP="$NAME $(md5sum <"$CORPUS" | cut -d' ' -f1)"
if [[ -f $STAMP && $(cat "$STAMP") == "$WANT_STAMP" && -s $DATA/arkiv.db ]]; then
    log "reusing $DATA (holds $NAME)"
else
    rm -rf "$DATA"
    mkdir -p "$DATA"
    import_into sqlite "$DATA"
    RES[sqlite.import.s]=$IMPORT_S
    echo "$WANT_STAMP" >"$STAMP"
fi

# The keys the detail load rotates over, as bench/run.sh makes them:
# published publications only (drafts answer 404), spread over the whole
# corpus, ids and slugs alternately.
KEYS_FILE=$WORK/keys-$PUBLICATIONS-seed$SEED-$KEYS.txt
python3 - "$CORPUS" "$KEYS" "$KEYS_FILE" <<'EOF'
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
want = min(int(sys.argv[2]), len(published))
step = len(published) / want
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for n in range(want):
        pub_id, slug = published[int(n * step)]
        out.write((pub_id if n % 2 == 0 else slug) + "\n")
EOF
N_KEYS=$(wc -l <"$KEYS_FILE")
log "corpus: $RECORDS records, $(count_publications "$CORPUS") publications; $N_KEYS keys for the detail load"

# --- 2. detail against /healthz -------------------------------------------------------
# drive DURATION OUT URL [KEYS_FILE]: one wrk run into OUT.
drive() {
    local duration=$1 out=$2 url=$3 keys=${4:-}
    local -a args=(-t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency -H "User-Agent: $UA")
    if [[ -n $keys ]]; then
        wrk "${args[@]}" -s "$BENCH/detail.lua" "$url" -- "$keys" >"$out" 2>&1 || true
    else
        wrk "${args[@]}" "$url" >"$out" 2>&1 || true
    fi
    grep -q '^Requests/sec:' "$out" || { cat "$out" >&2; die "wrk failed: $out"; }
    if grep -q 'detail.lua' "$out"; then
        cat "$out" >&2
        die "wrk's script failed: $out"
    fi
}
# parse OUT: sets R_RPS, R_P50, R_P99 (ms), R_BAD (non-2xx/3xx responses).
parse() {
    R_RPS=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1")
    R_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$1")")
    R_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$1")")
    R_BAD=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1")
    R_BAD=${R_BAD:-0}
}

ADMIN_KEY=$(make_key "$DATA")
echo
echo "detail (GET /v1/publications/{id-or-slug}, $N_KEYS keys) against GET /healthz, SQLite,"
echo "response cache off, wrk -t$THREADS -c$CONNECTIONS, $DURATION runs after a $WARMUP detail warm-up, serve --workers $WORKERS"
for mode in off on; do
    serve "documents-$mode" "$DATA" ARKIV_DOCUMENTS=$mode
    wait_index "documents-$mode" "$ADMIN_KEY"
    key=$(head -1 "$KEYS_FILE")
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "User-Agent: $UA" "$BASE/v1/publications/$key")
    [[ $code == 200 ]] || die "documents-$mode: GET /v1/publications/$key answered $code"
    log "documents-$mode: warm-up ($WARMUP)"
    drive "$WARMUP" "$WORK/warmup-$mode.txt" "$BASE" "$KEYS_FILE"
    if [[ $mode == on ]]; then
        # Let the stored documents be written before measuring.
        for _ in $(seq 60); do
            pending=$(metric arkiv_documents_pending "$(metrics "$ADMIN_KEY")")
            [[ ${pending:-0} == 0 ]] && break
            sleep 0.5
        done
    fi
    printf '\n%-9s %5s %14s %13s %9s %9s %8s %15s %s\n' documents round "healthz req/s" "detail req/s" \
        "p50 ms" "p99 ms" non-2xx "detail/healthz" "load avg"
    ratios=()
    for round in $(seq "$ROUNDS"); do
        drive "$DURATION" "$WORK/healthz-$mode-$round.txt" "$BASE/healthz"
        parse "$WORK/healthz-$mode-$round.txt"
        h_rps=$R_RPS
        drive "$DURATION" "$WORK/detail-$mode-$round.txt" "$BASE" "$KEYS_FILE"
        parse "$WORK/detail-$mode-$round.txt"
        ratio=$(awk -v d="$R_RPS" -v h="$h_rps" 'BEGIN { printf "%.3f", (h > 0) ? d / h : 0 }')
        ratios+=("$ratio")
        RES[$mode.$round]="$h_rps $R_RPS $R_P50 $R_P99 $R_BAD $ratio"
        printf '%-9s %5s %14s %13s %9s %9s %8s %15s %s\n' "$mode" "$round" "$h_rps" "$R_RPS" \
            "$R_P50" "$R_P99" "$R_BAD" "$ratio" "$(cut -d' ' -f1 /proc/loadavg)"
    done
    RES[$mode.median]=$(printf '%s\n' "${ratios[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    printf 'documents %s: median detail/healthz %s   target: detail >= %s x /healthz (SQLite, wrk -t2 -c16)   %s\n' \
        "$mode" "${RES[$mode.median]}" "$RATIO_MIN" "$(verdict "${RES[$mode.median]}" '>=' "$RATIO_MIN")"
    if [[ $mode == on ]]; then
        RES[documents.metrics]=$(metrics "$ADMIN_KEY" | grep '^arkiv_documents' || true)
        echo "/metrics after the documents-on runs:"
        sed 's/^/  /' <<<"${RES[documents.metrics]}"
    else
        stop_server
    fi
done

# --- 3. resident set after a full rebuild of the index ------------------------------
echo
echo "full rebuild of the search index (POST /v1/admin/reindex) on the documents-on server:"
code=$(curl -s -o "$WORK/reindex-start.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $ADMIN_KEY" "$BASE/v1/admin/reindex")
[[ $code == 202 ]] || { cat "$WORK/reindex-start.json" >&2; die "POST /v1/admin/reindex answered $code"; }
t0=$(now)
while :; do
    sleep 2
    status=$(curl -fsS -H "Authorization: Bearer $ADMIN_KEY" "$BASE/v1/admin/reindex") \
        || die "GET /v1/admin/reindex failed"
    grep -q '"running":false' <<<"$status" && break
    (($(date +%s) - ${t0%.*} > WAIT_MAX)) && die "the rebuild still runs after $WAIT_MAX s"
done
RES[reindex.s]=$(since "$t0")
grep -q '"error":null' <<<"$status" || die "the rebuild failed: $status"
RES[reindex.indexed]=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("indexed"))' "$status")
printf '  rebuilt in %s s (polled every 2 s; %s publications indexed)\n' "${RES[reindex.s]}" "${RES[reindex.indexed]}"
memory reindex "$DATA"
stop_server

# --- 4. resident set after indexing a large import ------------------------------------
echo
echo "import into an empty data dir while a server runs on it, then the index catching up:"
IMPORT_DATA=$WORK/import-data
rm -rf "$IMPORT_DATA"
mkdir -p "$IMPORT_DATA"
IMPORT_KEY=$(make_key "$IMPORT_DATA")
serve import "$IMPORT_DATA"
out=$(metrics "$IMPORT_KEY")
log "import: what /metrics says of the change log and the index, before the import:"
grep -E 'seq|index_lag' <<<"$out" | grep -v '^# TYPE' | sed 's/^/    /' >&2
t_import=$(now)
import_into import "$IMPORT_DATA"
RES[import.s]=$IMPORT_S
[[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz") == 200 ]] || die "import: /readyz does not answer 200"
wait_index import "$IMPORT_KEY"
RES[import.catchup_s]=$CATCHUP_S
RES[import.total_s]=$(since "$t_import")
RES[import.seq]=$(metric arkiv_change_seq "$(metrics "$IMPORT_KEY")")
printf '  imported %s records in %s s; the index caught up %s s after the import ended (%s s from its start; arkiv_change_seq %s)\n' \
    "$RECORDS" "${RES[import.s]}" "${RES[import.catchup_s]}" "${RES[import.total_s]}" "${RES[import.seq]}"
memory import "$IMPORT_DATA"
stop_server

# --- 5. summary ------------------------------------------------------------------------
get() { echo "${RES[$1]:-–}"; }
ELAPSED=$(($(date +%s) - STARTED))
RESULTS=$WORK/results-$(date +%Y%m%d-%H%M%S).txt
echo
{
    printf 'arkiv speed without the response cache, %s, commit %s%s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
        "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$([[ -n $(git -C "$ROOT" status --porcelain -- src migrations Cargo.toml Cargo.lock 2>/dev/null) ]] &&
            echo ' + uncommitted changes in the tree')"
    printf 'binary: %s; machine: %s cores (nproc); %s records (%s publications), %s keys;\n' \
        "$SOURCE_BIN" "$(nproc)" "$RECORDS" "$(count_publications "$CORPUS")" "$N_KEYS"
    printf 'SQLite, ARKIV_CACHE_MB=0, serve --workers %s, wrk -t%s -c%s, %s runs, %s rounds, %s warm-up\n\n' \
        "$WORKERS" "$THREADS" "$CONNECTIONS" "$DURATION" "$ROUNDS" "$WARMUP"
    fmt='%-46s %14s   %-10s %s\n'
    printf "$fmt" "" value target met
    for mode in off on; do
        for round in $(seq "$ROUNDS"); do
            read -r h d p50 p99 bad ratio <<<"${RES[$mode.$round]}"
            printf "$fmt" "documents $mode, round $round: healthz req/s" "$h" "" ""
            printf "$fmt" "  detail req/s" "$d" "" ""
            printf "$fmt" "  detail p50 / p99 ms" "$p50 / $p99" "" ""
            printf "$fmt" "  detail non-2xx" "$bad" "0" ""
            printf "$fmt" "  detail/healthz" "$ratio" "" ""
        done
        printf "$fmt" "documents $mode: median detail/healthz" "$(get "$mode.median")" ">= $RATIO_MIN" \
            "$(verdict "$(get "$mode.median")" '>=' "$RATIO_MIN")"
    done
    while IFS= read -r line; do
        [[ -n $line ]] && printf "$fmt" "${line% *}" "${line##* }" "" ""
    done <<<"$(get documents.metrics)"
    [[ -n ${RES[sqlite.import.s]:-} ]] && printf "$fmt" "import into data (s)" "$(get sqlite.import.s)" "" ""
    printf "$fmt" "rebuild (POST /v1/admin/reindex) s" "$(get reindex.s)" "" ""
    for at in 0 30 60; do
        printf "$fmt" "after rebuild +${at}s: RSS / index MB" "$(get reindex.rss$at) / $(get reindex.index$at)" "" ""
    done
    printf "$fmt" "after rebuild +60s: RSS/index" "$(get reindex.ratio60)" "<= $RSS_MAX" \
        "$(verdict "$(get reindex.ratio60)" '<=' "$RSS_MAX")"
    printf "$fmt" "import while serving s" "$(get import.s)" "" ""
    printf "$fmt" "index caught up, s after the import" "$(get import.catchup_s)" "" ""
    for at in 0 30 60; do
        printf "$fmt" "after import +${at}s: RSS / index MB" "$(get import.rss$at) / $(get import.index$at)" "" ""
    done
    printf "$fmt" "after import +60s: RSS/index" "$(get import.ratio60)" "<= $RSS_MAX" \
        "$(verdict "$(get import.ratio60)" '<=' "$RSS_MAX")"
    printf '\nwhole run: %d s\n' "$ELAPSED"
} | tee "$RESULTS"
log "results saved to $RESULTS"
