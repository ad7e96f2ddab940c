#!/usr/bin/env bash
# Image uploads: how long an upload takes (stored, decoded and rendered in
# the confined child) and how large its WebP renditions are, for a
# photo-like source at three sizes, and what a decompression bomb costs.
#
#   bench/images.sh [path/to/arkiv]     (default: target/release/arkiv)
#
# Starts arkiv on a temporary data directory (demo archive) on a free
# port of 127.0.0.1 and stops it on exit. Prints one line per upload.
set -euo pipefail
bin=${1:-target/release/arkiv}
[ -x "$bin" ] || { echo "no server binary at $bin (cargo build --release)"; exit 2; }
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ARKIV_DATA_DIR="$work/data" ARKIV_RATE_LIMIT=0
"$bin" migrate >/dev/null 2>&1
key=$("$bin" keys create --role editor --name bench 2>/dev/null | tail -n 1)
"$bin" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

# Photo-like sources: smooth light and shade with grain, as PNG (the
# standard library writes PNG; JPEG and WebP decode through the same path).
python3 - "$work" <<'PY'
import random, struct, sys, zlib
random.seed(7)
def png(w, h, path):
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            g = random.randint(-4, 4)
            r = int(120 + 90 * (x / w) + g); gr = int(90 + 100 * (y / h) + g); b = int(160 - 60 * (x / w) + g)
            rows += bytes((max(0, min(255, r)), max(0, min(255, gr)), max(0, min(255, b))))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b""))
for w, h in [(1200, 800), (2400, 1600), (4000, 3000)]:
    png(w, h, f"{sys.argv[1]}/photo-{w}x{h}.png")
# Bombs: few bytes that decode to a great many. 16-bit RGBA 6,000 x 6,000
# (36 Mpx, within the pixel limit, 288 MB decoded: past the decoder's
# memory), and 8-bit grey 20,000 x 20,000 (400 Mpx: refused by its header).
def chunk(kind, d):
    return struct.pack(">I", len(d)) + kind + d + struct.pack(">I", zlib.crc32(kind + d) & 0xffffffff)
for name, w, h, depth, colour, pixel in [("bomb-36mpx-16bit", 6000, 6000, 16, 6, 8), ("bomb-400mpx", 20000, 20000, 8, 0, 1)]:
    row = b"\0" * (1 + w * pixel)
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    with open(f"{sys.argv[1]}/{name}.png", "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))
                  + chunk(b"IDAT", data) + chunk(b"IEND", b""))
PY

target="$base/v1/organisations/new-social-initiative"
printf '%-26s %10s %8s %6s  %s\n' source bytes status ms "renditions (width: bytes)"
for file in "$work"/photo-*.png "$work"/bomb-*.png; do
  for round in 1 2 3; do
    etag=$(curl -sI -H "Authorization: Bearer $key" "$target" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
    out=$(curl -s -o "$work/reply.json" -w '%{http_code} %{time_total}' -X PUT \
      -H "Authorization: Bearer $key" -H "If-Match: $etag" --data-binary @"$file" "$target/image")
    status=${out% *}; seconds=${out#* }
    sizes=$(python3 - "$work/reply.json" "$ARKIV_DATA_DIR" <<'PY'
import json, os, sys
reply = json.load(open(sys.argv[1]))
image = reply.get("image")
if not image:
    print(reply.get("code", "-")); sys.exit()
sha = image["sha256"]
root = os.path.join(sys.argv[2], "files", "renditions", sha[:2], sha)
print(" ".join(f'{r["width"]}: {os.path.getsize(os.path.join(root, str(r["width"]) + ".webp"))}' for r in image["renditions"]))
PY
)
    printf '%-26s %10s %8s %6.0f  %s\n' "$(basename "$file") #$round" "$(stat -c %s "$file")" "$status" \
      "$(python3 -c "print($seconds*1000)")" "$sizes"
  done
done
echo "server still answering: $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz"); server RSS $(awk '/VmHWM/{print $2, $3}' /proc/$server_pid/status) peak"
