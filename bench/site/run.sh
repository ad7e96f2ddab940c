#!/usr/bin/env bash
# Tests the reference front end (examples/site) in headless Chromium against
# a fresh arkiv server with the demo archive: every page in every language,
# counting the API calls and bytes each makes, and checking labels, images,
# the language switcher and escaping. See bench/site/README.md.
#
#   bench/site/run.sh
#   ARKIV_BIN=/path/to/arkiv bench/site/run.sh
#   SCREENSHOTS=/tmp/shots bench/site/run.sh     # also a PNG of every page
#
# Settings (environment):
#   ARKIV_BIN    the server binary (default: the newest of target/{dist,release,debug}/arkiv)
#   CHROMIUM     the browser binary (default: chromium, installed with apt-get when missing)
#   KEEP_WORK=1  keep the temporary directory (logs, data dir, browser profile)
#
# Needs bash, setsid, python3 (to serve the site and find free ports), curl,
# Node 20.10 or later (its WebSocket client speaks to Chromium; no npm
# packages), and Chromium. Everything it starts listens on 127.0.0.1 and is
# stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
site_dir="$repo/examples/site"

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

# --- tools -------------------------------------------------------------------

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

CHROMIUM=${CHROMIUM:-}
if [ -z "$CHROMIUM" ]; then
  if ! command -v chromium >/dev/null; then
    say "installing chromium with apt-get…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  CHROMIUM=$(command -v chromium)
fi

for tool in python3 curl node; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done

# Node 22 has WebSocket built in; 20.10+ behind a flag; older has none.
node_flags=()
if ! node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
  if node --experimental-websocket -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
    node_flags=(--experimental-websocket)
  else
    die "Node $(node --version) has no WebSocket client: Node 20.10 or later is needed"
  fi
fi

if [ -z "${ARKIV_BIN:-}" ]; then
  ARKIV_BIN=$(ls -t "$repo"/target/{dist,release,debug}/arkiv 2>/dev/null | head -n 1 || true)
  [ -n "$ARKIV_BIN" ] || die "no arkiv binary under target/: build one, or set ARKIV_BIN"
fi
[ -x "$ARKIV_BIN" ] || die "ARKIV_BIN=$ARKIV_BIN is not an executable"

# --- processes ---------------------------------------------------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/arkiv-site-bench.XXXXXX")
arkiv_pid='' site_pid='' chromium_pid='' status=1

cleanup() {
  # Chromium runs in its own process group (setsid): stop the group, which
  # takes its helper processes with it; the other two are single processes.
  if [ -n "$chromium_pid" ]; then kill -TERM -- "-$chromium_pid" 2>/dev/null || true; fi
  for pid in "$site_pid" "$arkiv_pid"; do
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  # Wait up to 5 s for each to go (for Chromium, its whole group), then force it.
  for target in ${chromium_pid:+"-$chromium_pid"} $site_pid $arkiv_pid; do
    for _ in $(seq 50); do kill -0 -- "$target" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "$target" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] || [ "${KEEP_WORK:-}" = 1 ]; then
    say "logs and data kept in $work"
  else
    rm -rf "$work"
  fi
}
trap 'status=$?; cleanup' EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # URL WHAT PID LOG
  for _ in $(seq 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { tail -n 20 "$4" >&2; die "$2 exited"; }
    sleep 0.1
  done
  tail -n 20 "$4" >&2
  die "$2 did not answer at $1 in 30 s"
}

api_port=$(free_port)
site_port=$(free_port)
api="http://127.0.0.1:$api_port"
site="http://127.0.0.1:$site_port"

# The site, as static files.
python3 -m http.server --bind 127.0.0.1 --directory "$site_dir" "$site_port" >"$work/site.log" 2>&1 &
site_pid=$!

# arkiv on an empty data dir, so it loads the demo archive. No rate limit
# (the test makes a few hundred requests), CORS for the site's origin only,
# and the site's detail pages as the publications' `links.site`. Settings
# from the caller's environment that would point it elsewhere are dropped.
env -u ARKIV_DATABASE_URL -u ARKIV_NO_DEMO -u ARKIV_PUBLIC_URL -u ARKIV_SITE_URL \
  ARKIV_DATA_DIR="$work/data" \
  ARKIV_BIND="127.0.0.1:$api_port" \
  ARKIV_RATE_LIMIT=0 \
  ARKIV_CORS_ORIGINS="$site" \
  ARKIV_SITE_URL_PUBLICATIONS="$site/publication.html?lang={lang}&slug={slug}" \
  "$ARKIV_BIN" serve >"$work/arkiv.log" 2>&1 &
arkiv_pid=$!

wait_for "$site/index.html" "the static site server" "$site_pid" "$work/site.log"
wait_for "$api/readyz" "arkiv" "$arkiv_pid" "$work/arkiv.log"

# An editor key for the fixtures (a PDF upload, a publication with markup).
editor_key=$(env -u ARKIV_DATABASE_URL "$ARKIV_BIN" keys create --role editor --name site-bench \
  --data-dir "$work/data" 2>>"$work/arkiv.log")

# Chromium picks its own debugging port and writes it to DevToolsActivePort.
chromium_flags=(
  --headless=new --disable-gpu --disable-dev-shm-usage --no-first-run --no-default-browser-check
  --disable-extensions --disable-background-networking --disable-component-update --disable-sync
  --disable-features=Translate,MediaRouter,OptimizationHints --mute-audio
  --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 --user-data-dir="$work/chromium"
)
[ "$(id -u)" -ne 0 ] || chromium_flags+=(--no-sandbox) # Chromium refuses to sandbox as root
setsid "$CHROMIUM" "${chromium_flags[@]}" about:blank >"$work/chromium.log" 2>&1 &
chromium_pid=$!
for _ in $(seq 300); do
  [ -s "$work/chromium/DevToolsActivePort" ] && break
  kill -0 "$chromium_pid" 2>/dev/null || { tail -n 20 "$work/chromium.log" >&2; die "chromium exited"; }
  sleep 0.1
done
cdp_port=$(head -n 1 "$work/chromium/DevToolsActivePort" 2>/dev/null) || die "chromium did not open its debugging port"

say "arkiv $api, site $site, chromium :$cdp_port ($("$CHROMIUM" --version 2>/dev/null | head -n 1))"

ARKIV_API="$api" SITE_URL="$site" CDP_PORT="$cdp_port" EDITOR_KEY="$editor_key" \
  node "${node_flags[@]}" "$here/check.mjs"
