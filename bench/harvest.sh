#!/usr/bin/env bash
# Harvests a generated archive through /oai the way a library's harvester
# would, and prints what it took:
#   1. a whole ListRecords harvest with sickle (a real OAI-PMH client):
#      records, pages, seconds, records/s, the server's RSS;
#   2. the same list over raw HTTP, stopped halfway, the server restarted,
#      and resumed with the token it had: every record once, none missing;
#   3. ListIdentifiers, and a set-wise harvest (language:sq).
#
#   bench/harvest.sh                           # 20,000 publications, SQLite
#   PUBLICATIONS=5000 bench/harvest.sh
#
# Settings (environment): PUBLICATIONS (20000), SEED (1), PORT (18090),
# ARKIV_BIN (default: builds target/dist/arkiv). Needs python3 with
# sickle (pip install sickle). Work files go to bench/.work/harvest-*.
# The server listens on 127.0.0.1 only.
set -euo pipefail

PUBLICATIONS=${PUBLICATIONS:-20000}
SEED=${SEED:-1}
PORT=${PORT:-18090}
HOST=127.0.0.1
BASE=http://$HOST:$PORT

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work
MAKE_CORPUS=${MAKE_CORPUS:-$ROOT/../shared/tools/make-corpus}
CORPUS=$WORK/corpus-$PUBLICATIONS-seed$SEED.ndjson
DATA=$WORK/harvest-data
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

export ARKIV_LOG=${ARKIV_LOG:-warn}
# One harvester is one client: no per-client limit in the way.
export ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_WORKERS || true
mkdir -p "$WORK"

python3 -c 'import sickle' 2>/dev/null || die "python3 needs sickle: pip install sickle"

if [[ -n ${ARKIV_BIN:-} ]]; then
    BIN=$ARKIV_BIN
else
    log "building target/dist/arkiv"
    (cd "$ROOT" && cargo build --profile dist --quiet) || die "dist build failed"
    BIN=$ROOT/target/dist/arkiv
fi

if [[ ! -s $CORPUS ]]; then
    log "generating $PUBLICATIONS publications"
    python3 "$MAKE_CORPUS" --publications "$PUBLICATIONS" --seed "$SEED" >"$CORPUS.tmp"
    mv "$CORPUS.tmp" "$CORPUS"
fi

rm -rf "$DATA"
log "importing"
ARKIV_DATA_DIR=$DATA "$BIN" import "$CORPUS" 2>"$WORK/harvest-import.log" \
    || die "import failed (see $WORK/harvest-import.log)"

SERVER_PID=
start_server() {
    ARKIV_DATA_DIR=$DATA "$BIN" serve --bind "$HOST:$PORT" --no-demo \
        >>"$WORK/harvest-serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        curl -sf "$BASE/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited (see $WORK/harvest-serve.log)"
        sleep 0.1
    done
    die "the server did not become ready"
}
stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT
# Resident memory: all of it, and the anonymous part (the heap); the rest
# is files mapped in (SQLite's mmap, the index), which the kernel can drop.
rss_mb() {
    awk '/^VmRSS/ { all = $2 } /^RssAnon/ { anon = $2 }
         END { printf "%.0f MB (heap %.0f MB, the rest mapped files)", all / 1024, anon / 1024 }' \
        "/proc/$SERVER_PID/status"
}

start_server
PUBLISHED=$(curl -sf "$BASE/v1/publications?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
log "serving $PUBLISHED published publications on $BASE"

# 1. A whole harvest with sickle.
WHOLE=$(python3 - "$BASE/oai" <<'EOF'
import json, sys, time
from sickle import Sickle
start = time.monotonic()
records = list(Sickle(sys.argv[1], max_retries=0).ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
seconds = time.monotonic() - start
ids = {r.header.identifier for r in records}
print(json.dumps({"records": len(records), "distinct": len(ids), "seconds": round(seconds, 2)}))
EOF
)
WHOLE_RSS=$(rss_mb)

# 2. Halfway, a restart, then on with the same token.
RESUME=$WORK/harvest-resume.json
python3 - "$BASE/oai" "$RESUME" first <<'EOF'
import json, re, sys, urllib.request
base, state_file = sys.argv[1], sys.argv[2]
ids, token, pages = [], None, 0
url = base + "?verb=ListIdentifiers&metadataPrefix=oai_dc"
while pages < 10:
    body = urllib.request.urlopen(url).read().decode()
    ids += re.findall(r"<identifier>([^<]+)</identifier>", body)
    token = re.search(r"<resumptionToken[^>]*>([^<]*)</resumptionToken>", body)
    token = token.group(1) if token else ""
    pages += 1
    if not token:
        break
    url = base + "?verb=ListIdentifiers&resumptionToken=" + token
json.dump({"ids": ids, "token": token, "pages": pages}, open(state_file, "w"))
EOF
log "stopped halfway; restarting the server"
stop_server
start_server
RESUMED=$(python3 - "$BASE/oai" "$RESUME" <<'EOF'
import json, re, sys, time, urllib.request
base, state = sys.argv[1], json.load(open(sys.argv[2]))
ids, token, pages = state["ids"], state["token"], state["pages"]
start = time.monotonic()
while token:
    body = urllib.request.urlopen(base + "?verb=ListIdentifiers&resumptionToken=" + token).read().decode()
    if "<error" in body:
        raise SystemExit("error after the restart: " + body[:300])
    ids += re.findall(r"<identifier>([^<]+)</identifier>", body)
    found = re.search(r"<resumptionToken[^>]*>([^<]*)</resumptionToken>", body)
    token = found.group(1) if found else ""
    pages += 1
print(json.dumps({"identifiers": len(ids), "distinct": len(set(ids)), "pages": pages,
                  "seconds_after_restart": round(time.monotonic() - start, 2)}))
EOF
)

# 3. A set.
SET=$(python3 - "$BASE/oai" <<'EOF'
import json, sys, time
from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch
start = time.monotonic()
try:
    n = sum(1 for _ in Sickle(sys.argv[1], max_retries=0).ListIdentifiers(metadataPrefix="oai_dc", set="language:sq"))
except NoRecordsMatch:
    n = 0
print(json.dumps({"identifiers": n, "seconds": round(time.monotonic() - start, 2)}))
EOF
)
SQ=$(curl -sf "$BASE/v1/publications?limit=1&language=sq" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')

python3 - "$PUBLISHED" "$WHOLE" "$WHOLE_RSS" "$RESUMED" "$SET" "$SQ" <<'EOF'
import json, sys
published, whole, rss, resumed, subset, sq = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5]), int(sys.argv[6])
print(f"OAI-PMH harvest of {published} published publications (SQLite, dist build)")
print(f"  ListRecords with sickle: {whole['records']} records ({whole['distinct']} distinct) "
      f"in {whole['seconds']} s = {whole['records'] / whole['seconds']:.0f} records/s; server RSS {rss}")
print(f"  ListIdentifiers across a restart: {resumed['identifiers']} identifiers "
      f"({resumed['distinct']} distinct) in {resumed['pages']} pages")
print(f"  set language:sq: {subset['identifiers']} identifiers in {subset['seconds']} s "
      f"(the list says {sq} publications have Albanian)")
ok = (whole["records"] == whole["distinct"] == published
      and resumed["identifiers"] == resumed["distinct"] == published
      and subset["identifiers"] == sq)
print("  every record exactly once: " + ("yes" if ok else "NO"))
sys.exit(0 if ok else 1)
EOF
