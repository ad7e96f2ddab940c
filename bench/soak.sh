#!/usr/bin/env bash
# A long, steady mixed load on a large archive (the work is in
# bench/soak.py): RATE requests a second of details, list pages (filters,
# sorts, cursors), searches, completions and writes, for DURATION seconds.
# Prints the server's RSS, threads, descriptors and index size every
# minute, p50/p99 and errors per kind of request every BLOCK seconds, and
# at the end reads every acknowledged write back (lost must be 0).
#
#   bench/soak.sh                                   # 30 minutes, 150 req/s, 50,000 publications
#   DURATION=300 BLOCK=60 bench/soak.sh             # a quick look
#
# Settings (environment):
#   PUBLICATIONS  publications in the generated corpus        (50000)
#   SEED          corpus seed                                 (1)
#   DURATION      seconds of load                             (1800)
#   RATE          requests a second (open loop)               (150)
#   BLOCK         seconds per latency block                   (300)
#   WORKERS       client threads                              (12)
#   WRITE_SHARE   share of requests that write                (0.01)
#   CACHE_MB      the server's response cache (ARKIV_CACHE_MB; unset: its default)
#   PORT          the server's port on 127.0.0.1              (18099)
#   ARKIV_BIN     the binary (default: `cargo build --release` of this tree)
#
# The archive is imported into bench/.work/soak-data (SQLite) and indexed
# before the server starts; the corpus is cached in bench/.work/.
set -euo pipefail

PUBLICATIONS=${PUBLICATIONS:-50000}
SEED=${SEED:-1}
PORT=${PORT:-18099}
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work
MAKE_CORPUS=${MAKE_CORPUS:-$ROOT/../shared/tools/make-corpus}
mkdir -p "$WORK"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -z ${ARKIV_BIN:-} ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    ARKIV_BIN=$ROOT/target/release/arkiv
fi

CORPUS=$WORK/corpus-$PUBLICATIONS-seed$SEED.ndjson
QUERIES=$WORK/queries-$PUBLICATIONS-seed$SEED.txt
if [[ ! -s $CORPUS || ! -s $QUERIES ]]; then
    log "generating $PUBLICATIONS publications"
    python3 "$MAKE_CORPUS" --publications "$PUBLICATIONS" --seed "$SEED" --queries "$QUERIES" >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi

unset ARKIV_DATABASE_URL ARKIV_BIND ARKIV_WORKERS ARKIV_METRICS_BIND || true
export ARKIV_DATA_DIR=$WORK/soak-data ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
export ARKIV_LOG=${ARKIV_LOG:-warn}
if [[ -n ${CACHE_MB:-} ]]; then export ARKIV_CACHE_MB=$CACHE_MB; else unset ARKIV_CACHE_MB || true; fi
rm -rf "$ARKIV_DATA_DIR"
log "importing and indexing"
"$ARKIV_BIN" import "$CORPUS" >"$WORK/soak-import.log" 2>&1
"$ARKIV_BIN" reindex >"$WORK/soak-reindex.log" 2>&1
EDITOR_KEY=$("$ARKIV_BIN" keys create --role editor --name soak 2>/dev/null | head -1)

"$ARKIV_BIN" serve --bind "127.0.0.1:$PORT" --no-demo >"$WORK/soak-serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    kill -0 $SERVER 2>/dev/null || { tail "$WORK/soak-serve.log"; exit 1; }
    sleep 0.2
done
log "serving (pid $SERVER); the load starts"
PORT=$PORT PID=$SERVER EDITOR_KEY=$EDITOR_KEY INDEX_DIR=$ARKIV_DATA_DIR/index QUERIES=$QUERIES \
    python3 "$BENCH/soak.py"
