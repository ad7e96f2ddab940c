#!/usr/bin/env bash
# Database faults under load, on PostgreSQL: the cluster stopped and
# started, every session terminated, the database read-only and back.
# Prints, per fault, the statuses seen, the slowest answer, the time to
# the first good read and write after it, the server's thread and
# descriptor peaks; then the acknowledged writes read back (lost must be 0).
# The work is in bench/faults.py.
#
#   bench/faults.sh
#   STOP_S=5 READONLY_S=5 SETTLE_S=5 bench/faults.sh     # quicker
#
# Settings (environment):
#   STOP_S       seconds the cluster stays stopped           (20)
#   READONLY_S   seconds the database stays read-only        (15)
#   SETTLE_S     seconds of load before and after each fault (10)
#   CLIENTS      concurrent keep-alive clients               (4)
#   WRITE_EVERY  one request in this many is a write         (10)
#   PG_BIN       PostgreSQL's binaries      (/usr/lib/postgresql/15/bin)
#   PG_PORT      the throwaway cluster's port                (55433)
#   PORT         the server's port on 127.0.0.1              (18097)
#   ARKIV_BIN    the binary (default: `cargo build --release` of this tree)
#
# The cluster runs as the `postgres` user (PostgreSQL refuses root); its
# files, the server's data and log go to bench/.work/ (ignored by git).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
export WORK=$BENCH/.work
mkdir -p "$WORK"
chmod o+x "$WORK" "$BENCH" "$ROOT" 2>/dev/null || true

if [[ -z ${ARKIV_BIN:-} ]]; then
    (cd "$ROOT" && cargo build --release --quiet)
    ARKIV_BIN=$ROOT/target/release/arkiv
fi
export ARKIV_BIN
unset ARKIV_DATABASE_URL ARKIV_DATA_DIR ARKIV_BIND ARKIV_WORKERS || true
exec python3 "$BENCH/faults.py"
