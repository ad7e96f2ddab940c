#!/usr/bin/env bash
# Fuzzes the served API with schemathesis, on SQLite and on PostgreSQL:
# every operation of GET /openapi.json, twice per backend, anonymous and
# with an admin key (so the write endpoints are exercised past 401), with
# the responses checked against the spec. Exits non-zero when any response
# was a server error (5xx).
#
#   bench/fuzz.sh                          # both backends, 50 cases an operation
#   BACKENDS=sqlite MAX_EXAMPLES=20 bench/fuzz.sh
#   PG_URL=postgres://postgres@127.0.0.1:25432/postgres bench/fuzz.sh
#
# Settings (environment):
#   BACKENDS      which backends to run                   ("sqlite postgres")
#   RUNS          which runs per backend                  ("anonymous admin")
#   MAX_EXAMPLES  test cases generated per operation and phase        (50)
#   SEED          schemathesis / hypothesis seed, for repeatable runs (1)
#   TIME_LIMIT    wall-clock bound of one run, in seconds; a run still
#                 going then is interrupted and reported as cut short (1200)
#   PHASES        schemathesis phases       ("examples,coverage,fuzzing,stateful")
#   CHECKS        schemathesis checks (not_a_server_error is always on)
#                 ("not_a_server_error,status_code_conformance,
#                   content_type_conformance,response_schema_conformance")
#   ST_WORKERS    concurrent schemathesis workers                     (1)
#   PORT          HTTP port of the server under test              (18190)
#   PG_URL        use this PostgreSQL server (a fresh database is created in
#                 it and dropped at the end) instead of a throwaway cluster
#   PG_PORT       port of the throwaway cluster                   (55433)
#   PG_BIN        PostgreSQL binaries (default: the newest /usr/lib/postgresql/*/bin)
#   PROFILE       cargo profile to build: debug or release        (debug)
#   ARKIV_BIN     fuzz this binary instead of building one
#   SCHEMATHESIS  pip requirement installed when `st` is missing
#                 ('schemathesis>=4.32,<5'; the CLI of 3.x differs)
#
# Everything it makes goes to bench/.work/fuzz/ (ignored by git): for each
# backend and run, schemathesis' console output (`*-st.txt`), its JSON
# report, every response's status (`*-responses.tsv`), the server errors
# with a curl command each (`*-5xx.ndjson`), and the server's log; then
# `summary.txt`. Servers and PostgreSQL listen on 127.0.0.1 only and are
# stopped on exit.
set -euo pipefail

BACKENDS=${BACKENDS:-sqlite postgres}
RUNS=${RUNS:-anonymous admin}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
SEED=${SEED:-1}
TIME_LIMIT=${TIME_LIMIT:-1200}
PHASES=${PHASES:-examples,coverage,fuzzing,stateful}
CHECKS=${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}
ST_WORKERS=${ST_WORKERS:-1}
PORT=${PORT:-18190}
PG_URL=${PG_URL:-}
PG_PORT=${PG_PORT:-55433}
PROFILE=${PROFILE:-debug}
SCHEMATHESIS=${SCHEMATHESIS:-schemathesis>=4.32,<5}

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/.work/fuzz
HOST=127.0.0.1
BASE=http://$HOST:$PORT

[[ $CHECKS == *not_a_server_error* ]] || CHECKS="not_a_server_error,$CHECKS"

export ARKIV_LOG=${ARKIV_LOG:-warn}
# One client sends thousands of requests a minute: limits would answer 429.
export ARKIV_RATE_LIMIT=0 ARKIV_RATE_LIMIT_KEYED=0
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_PUBLIC_URL || true

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

rm -rf "$WORK"
mkdir -p "$WORK"

# --- cleanup -----------------------------------------------------------------
SERVER_PID=
PG_ROOT=
PG_DB=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
drop_database() {
    if [[ -n $PG_DB ]]; then
        psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
        PG_DB=
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
    drop_database
    stop_postgres
    [[ -n ${DATA_ROOT:-} ]] && rm -rf "$DATA_ROOT"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------
if ! command -v st >/dev/null || ! st --version 2>/dev/null | grep -q 'version 4\.'; then
    log "installing $SCHEMATHESIS"
    python3 -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS" \
        || die "could not install schemathesis"
fi
ST_VERSION=$(st --version 2>/dev/null | awk '{ print $NF }')

if [[ -n ${ARKIV_BIN:-} ]]; then
    BIN=$ARKIV_BIN
else
    case $PROFILE in
        debug) log "building arkiv (debug)"; (cd "$ROOT" && cargo build --quiet); BIN=$ROOT/target/debug/arkiv ;;
        release) log "building arkiv (release: thin LTO, a few minutes on 2 cores)"; (cd "$ROOT" && cargo build --quiet --release); BIN=$ROOT/target/release/arkiv ;;
        *) die "PROFILE is debug or release, not $PROFILE" ;;
    esac
fi
[[ -x $BIN ]] || die "no arkiv binary at $BIN"

DATA_ROOT=$(mktemp -d /tmp/arkiv-fuzz.XXXXXX)

# --- PostgreSQL ----------------------------------------------------------------
# start_postgres: sets DATABASE_URL to an empty database for one backend's
# runs, either a fresh database in PG_URL's server or a throwaway cluster.
# (Not called in a subshell: cleanup needs PG_DB and PG_ROOT.)
start_postgres() {
    if [[ -n $PG_URL ]]; then
        command -v psql >/dev/null || die "PG_URL needs psql"
        PG_DB=arkiv_fuzz_$$
        psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null \
            || die "could not create database $PG_DB in $PG_URL"
        # The same server, the new database: replace the path of the URL.
        local base=${PG_URL%%\?*} query=
        [[ $PG_URL == *\?* ]] && query="?${PG_URL#*\?}"
        DATABASE_URL="${base%/*}/$PG_DB$query"
        return
    fi
    if [[ -z ${PG_BIN:-} ]]; then
        local dir
        for dir in /usr/lib/postgresql/*/bin; do
            [[ -x $dir/initdb ]] && PG_BIN=$dir
        done
    fi
    [[ -x ${PG_BIN:-}/initdb ]] || die "no PostgreSQL binaries (set PG_BIN, or PG_URL)"
    port_busy "$PG_PORT" && die "port $PG_PORT is already in use (set PG_PORT)"
    PG_ROOT=$(mktemp -d /tmp/arkiv-fuzz-pg.XXXXXX)
    chown postgres: "$PG_ROOT"
    chmod 700 "$PG_ROOT"
    (cd /tmp && runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_ROOT/data" -U postgres \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8) >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
    (cd /tmp && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/postgres.log" \
        -o "-p $PG_PORT -k /tmp -c listen_addresses=$HOST -c fsync=off" -w start) >/dev/null \
        || { cat "$PG_ROOT/postgres.log" >&2; die "PostgreSQL did not start"; }
    DATABASE_URL="postgres://postgres@$HOST:$PG_PORT/postgres"
}

# --- one backend -----------------------------------------------------------------
# serve BACKEND: starts the server on a fresh database with the demo archive
# and waits for /readyz (30 s at most).
serve() {
    local backend=$1
    port_busy "$PORT" && die "port $PORT is already in use (set PORT)"
    "$BIN" serve --bind "$HOST:$PORT" >"$WORK/$backend-serve.log" 2>&1 &
    SERVER_PID=$!
    local tries=0
    until curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/$backend-serve.log" >&2; die "$backend: the server exited"; }
        ((++tries > 300)) && die "$backend: not ready after 30 s"
        sleep 0.1
    done
    log "$backend: serving on $BASE (pid $SERVER_PID)"
}

# fuzz BACKEND RUN [HEADER]: one schemathesis run; its files are named
# BACKEND-RUN-*.
fuzz() {
    local backend=$1 run=$2 header=${3:-} name=$1-$2
    local auth=()
    [[ -n $header ]] && auth=(-H "$header")
    : >"$WORK/$name-responses.tsv"
    : >"$WORK/$name-5xx.ndjson"
    log "$name: schemathesis $ST_VERSION, $MAX_EXAMPLES cases an operation and phase, seed $SEED, at most $TIME_LIMIT s"
    local started=$SECONDS rc=0
    # SIGINT lets schemathesis stop and still write its report; KILL 30 s later.
    # Run from WORK: schemathesis keeps a cache of crashes in ./.schemathesis.
    (cd "$WORK" && FUZZ_RESPONSES=$WORK/$name-responses.tsv FUZZ_SERVER_ERRORS=$WORK/$name-5xx.ndjson \
        FUZZ_BASE=$BASE FUZZ_AUTH=$header \
        SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH=$BENCH${PYTHONPATH:+:$PYTHONPATH} \
        timeout -s INT -k 30 "$TIME_LIMIT" \
        st run "$BASE/openapi.json" "${auth[@]}" \
        --checks "$CHECKS" --phases "$PHASES" \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers "$ST_WORKERS" \
        --generation-database none --request-timeout 30 \
        --suppress-health-check too_slow \
        --report json --report-json-path "$WORK/$name-report.json" \
        --no-color --output-truncate false \
        >"$WORK/$name-st.txt" 2>&1) || rc=$?
    echo "$rc $((SECONDS - started))" >"$WORK/$name-exit"
    kill -0 "$SERVER_PID" 2>/dev/null || die "$name: the server died (see $WORK/$backend-serve.log)"
    if [[ -n $header ]]; then
        local code
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$BASE/v1/admin/keys")
        [[ $code == 200 ]] || log "$name: warning: the key no longer works ($code): later cases ran without it"
    fi
    log "$name: done in $((SECONDS - started)) s (schemathesis exit $rc)"
}

for backend in $BACKENDS; do
    case $backend in
        sqlite)
            export ARKIV_DATA_DIR=$DATA_ROOT/sqlite
            ;;
        postgres)
            start_postgres
            export ARKIV_DATABASE_URL=$DATABASE_URL
            export ARKIV_DATA_DIR=$DATA_ROOT/postgres
            ;;
        *) die "unknown backend $backend (sqlite or postgres)" ;;
    esac
    mkdir -p "$ARKIV_DATA_DIR"
    serve "$backend"
    KEY=$("$BIN" keys create --role admin --name fuzz 2>"$WORK/$backend-keys.log" | tail -1)
    [[ $KEY == arkiv_* ]] || die "$backend: could not create an admin key (see $WORK/$backend-keys.log)"
    # The hooks keep the run from revoking its own key.
    FUZZ_KEY_ID=$(grep -o '(id [0-9a-f-]*)' "$WORK/$backend-keys.log" | tr -d '()' | cut -d' ' -f2)
    export FUZZ_KEY_ID
    for run in $RUNS; do
        case $run in
            anonymous) fuzz "$backend" anonymous ;;
            admin) fuzz "$backend" admin "Authorization: Bearer $KEY" ;;
            *) die "unknown run $run (anonymous or admin)" ;;
        esac
    done
    stop_server
    drop_database
    if [[ -n $PG_ROOT ]]; then
        cp "$PG_ROOT/postgres.log" "$WORK/postgres.log" 2>/dev/null || true
        stop_postgres
    fi
    unset ARKIV_DATABASE_URL ARKIV_DATA_DIR
done

# --- summary -------------------------------------------------------------------
python3 - "$WORK" "$BACKENDS" "$RUNS" <<'PY' | tee "$WORK/summary.txt"
import collections, json, os, sys

work, backends, runs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
rows, total_5xx, details = [], 0, []
for backend in backends:
    for run in runs:
        name = f"{backend}-{run}"
        try:
            report = json.load(open(os.path.join(work, f"{name}-report.json")))
        except (OSError, ValueError):
            report = None
        statuses = collections.Counter()
        with open(os.path.join(work, f"{name}-responses.tsv")) as lines:
            for line in lines:
                status, _, operation = line.rstrip("\n").partition("\t")
                statuses[int(status) // 100] += 1
        errors = [json.loads(line) for line in open(os.path.join(work, f"{name}-5xx.ndjson"))]
        total_5xx += len(errors)
        rc, seconds = open(os.path.join(work, f"{name}-exit")).read().split()
        if report is None:
            rows.append([name, "-", "-", sum(statuses.values()), len(errors), "-", "-", "no report", seconds])
            continue
        other = collections.Counter()
        for failure in report["failures"]:
            if failure["code"] != "server_error":
                other[failure["title"]] += failure["count"]
        problems = sum(group["count"] for group in report["errors"])
        stop = report["stop_reason"]
        rows.append([
            name,
            f'{report["operations"]["tested"]}/{report["operations"]["selected"]}',
            report["test_cases"]["generated"],
            sum(statuses.values()),
            len(errors),
            sum(other.values()),
            problems,
            "cut short" if stop in ("interrupted", "max_time") else stop,
            seconds,
        ])
        for title, count in sorted(other.items()):
            details.append(f"  {name}: {count} x {title}")
        for group in report["errors"]:
            details.append(f'  {name}: {group["count"]} x error: {group["title"]}')
        for error in errors[:20]:
            details.append(f'  {name}: {error["status"]} {error["operation"]}: {error["body"][:200]}')

head = ["run", "operations", "cases", "requests", "5xx", "other failures", "errors", "stop", "seconds"]
widths = [max(len(str(row[i])) for row in rows + [head]) for i in range(len(head))]
for row in [head] + rows:
    print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
if details:
    print("\nDetails (full text in each run's *-st.txt and *-5xx.ndjson):")
    print("\n".join(details))
print(f"\nserver errors (5xx): {total_5xx}")
sys.exit(1 if total_5xx else 0)
PY
