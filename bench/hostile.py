#!/usr/bin/env python3
"""Hostile PDFs against a running arkiv server: the time each upload takes,
what became of its text, the server's resident memory before and after,
and the peak memory of the extraction child on the same file and limits.

    bench/hostile.py                         # builds the dist binary (fat LTO)
    ARKIV_BIN=target/debug/arkiv bench/hostile.py

Settings (environment): ARKIV_BIN (the binary; default: build --profile dist),
TIMEOUT_S (ARKIV_EXTRACT_TIMEOUT_S, 30), MEMORY_MB (ARKIV_EXTRACT_MEMORY_MB,
512), PORT (18191). The server runs on 127.0.0.1 only, on a throwaway data
directory, and is stopped with SIGTERM at the end (the time it takes to
stop during an endless extraction is measured too).

The files are made here, from their objects, as the integration tests
make theirs (tests/api/pdfs.rs): nothing is fetched.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = int(os.environ.get("TIMEOUT_S", "30"))
MEMORY_MB = int(os.environ.get("MEMORY_MB", "512"))
PORT = int(os.environ.get("PORT", "18191"))
BASE = f"http://127.0.0.1:{PORT}"


# --- the files ---------------------------------------------------------------

def document(objects, trailer=""):
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        body = body.encode() if isinstance(body, str) else body
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer}>>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def stream(dictionary, data):
    data = data.encode() if isinstance(data, str) else data
    return f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
PAGES = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
PAGE = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R {} >>"


def with_text(text):
    return document([CATALOG, PAGES, PAGE.format("/Resources << /Font << /F1 5 0 R >> >>"),
                     stream("", f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET"), FONT])


def self_drawing_form():
    return document([CATALOG, PAGES, PAGE.format("/Resources << /XObject << /X1 5 0 R >> >>"),
                     stream("", "/X1 Do"),
                     stream("/Type /XObject /Subtype /Form /BBox [0 0 10 10] "
                            "/Resources << /XObject << /X1 5 0 R >> >>", "/X1 Do")])


def page_its_own_parent():
    return document([CATALOG, PAGES,
                     "<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                     stream("", "BT /F1 12 Tf (hi) Tj ET")])


def kids_cycle():
    return document([CATALOG, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])


def deeply_nested(depth, dictionaries):
    opening, closing = ("<< /A ", ">>") if dictionaries else ("[", "]")
    return document([CATALOG, PAGES, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                     f"/Deep {opening * depth}{closing * depth} >>"])


def flate_in_flate(inflated):
    packer, chunk = zlib.compressobj(9), b"\0" * (16 << 20)
    inner = b"".join(packer.compress(chunk) for _ in range(inflated // len(chunk))) + packer.flush()
    return document([CATALOG, PAGES, PAGE.format(""),
                     stream("/Filter [/FlateDecode /FlateDecode]", zlib.compress(inner, 9))])


def billion_laughs(levels, leaf):
    first, font = 5, 5 + levels
    objects = [CATALOG, PAGES,
               PAGE.format(f"/Resources << /XObject << /X {first} 0 R >> /Font << /F1 {font} 0 R >> >>"),
               stream("", "/X Do")]
    for level in range(levels):
        if level + 1 == levels:
            resources, body = f"/Font << /F1 {font} 0 R >>", leaf
        else:
            resources, body = f"/XObject << /X {first + level + 1} 0 R >>", "/X Do " * 10
        objects.append(stream(f"/Type /XObject /Subtype /Form /BBox [0 0 10 10] "
                              f"/Resources << {resources} >>", body))
    objects.append(FONT)
    return document(objects)


def lying_length():
    content = b"BT /F1 12 Tf 72 720 Td (lying) Tj ET"
    return document([CATALOG, PAGES, PAGE.format("/Resources << /Font << /F1 5 0 R >> >>"),
                     b"<< /Length 999999 >>\nstream\n" + content + b"\nendstream", FONT])


def encrypted():
    return document([CATALOG, PAGES, PAGE.format(""), stream("", "xx"),
                     "<< /Filter /Standard /V 1 /R 2 /O <" + "11" * 32 + "> /U <" + "22" * 32 + "> /P -4 >>"],
                    "/Encrypt 5 0 R /ID [<0123456789abcdef0123456789abcdef> "
                    "<0123456789abcdef0123456789abcdef>] ")


def hostile_files():
    good = with_text("an ordinary policy paper")
    return [
        ("ordinary PDF (control)", good),
        ("self-drawing Form XObject", self_drawing_form()),
        ("page its own /Parent", page_its_own_parent()),
        ("cycle through /Kids", kids_cycle()),
        ("arrays 100,000 deep", deeply_nested(100_000, False)),
        ("dictionaries 100,000 deep", deeply_nested(100_000, True)),
        ("Flate in Flate, 4 GiB", flate_in_flate(4 << 30)),
        ("10^9 strokes (endless)", billion_laughs(9, "0 0 m 1 1 l S")),
        ("10^5 lines of text", billion_laughs(5, "BT /F1 12 Tf (" + "abcdefgh " * 200 + ") Tj ET")),
        ("lying /Length", lying_length()),
        ("truncated xref", good[: len(good) // 2]),
        ("encrypted", encrypted()),
    ]


# --- the server --------------------------------------------------------------

def request(method, path, key=None, body=None, headers=None):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if isinstance(body, dict):
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    req.add_header("User-Agent", "Mozilla/5.0 (arkiv hostile bench)")
    try:
        with urllib.request.urlopen(req, timeout=600) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child_peak(binary, path):
    """Runs the extraction child as the server does, under /usr/bin/time."""
    started = time.monotonic()
    run = subprocess.run(
        ["/usr/bin/time", "-f", "%M", binary, "extract-text", "--memory-mb", str(MEMORY_MB),
         "--cpu-seconds", str(TIMEOUT_S), "--", path],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={}, timeout=TIMEOUT_S + 30)
    peak = run.stderr.decode(errors="replace").strip().splitlines()[-1]
    return peak, time.monotonic() - started


def start(binary, data):
    env = dict(os.environ, ARKIV_DATA_DIR=data, ARKIV_RATE_LIMIT="0", ARKIV_LOG="warn",
               ARKIV_EXTRACT_TIMEOUT_S=str(TIMEOUT_S), ARKIV_EXTRACT_MEMORY_MB=str(MEMORY_MB))
    server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{PORT}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("the server did not start")


def main():
    binary = os.environ.get("ARKIV_BIN")
    if not binary:
        subprocess.run(["cargo", "build", "--profile", "dist", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target/dist/arkiv")
    files = hostile_files()
    with tempfile.TemporaryDirectory() as data:
        key = subprocess.run([binary, "keys", "create", "--role", "editor", "--name", "bench"],
                             env=dict(os.environ, ARKIV_DATA_DIR=data, ARKIV_LOG="warn"),
                             check=True, capture_output=True).stdout.decode().strip()
        server = start(binary, data)
        pid = server.pid
        rows = []
        reads = {"count": 0, "slowest": 0.0, "failed": 0}
        stop_reading = threading.Event()

        def reader():
            while not stop_reading.is_set():
                started = time.monotonic()
                status = request("GET", "/v1/publications/conclusions-expert-discussion-2024-10-31")[0]
                reads["slowest"] = max(reads["slowest"], time.monotonic() - started)
                reads["count"] += 1
                reads["failed"] += status != 200

        threading.Thread(target=reader, daemon=True).start()
        rss_start = rss_kib(pid)
        for number, (name, pdf) in enumerate(files):
            slug = f"hostile-{number}"
            status, headers, _ = request("POST", "/v1/publications", key,
                                         {"slug": slug, "kind": "report",
                                          "variants": {"en": {"title": name}}})
            assert status == 201, status
            path = os.path.join(data, f"{slug}.pdf")
            with open(path, "wb") as out:
                out.write(pdf)
            before = rss_kib(pid)
            started = time.monotonic()
            status, _, body = request("PUT", f"/v1/publications/{slug}/variants/en/file", key, pdf,
                                      {"If-Match": headers["etag"], "Content-Type": "application/pdf"})
            took = time.monotonic() - started
            after = rss_kib(pid)
            answer = json.loads(body) if status == 200 else {}
            file = answer.get("file") or {}
            peak, _ = child_peak(binary, path)
            rows.append((name, len(pdf), status, file.get("text_status"), file.get("text_error"),
                         took, before, after, peak))
        rss_end, hwm = rss_kib(pid), rss_kib(pid, "VmHWM")
        stop_reading.set()
        alive = server.poll() is None and server.pid == pid

        # Four at once, then SIGTERM during an endless extraction.
        endless = billion_laughs(9, "0 0 m 1 1 l S")
        status, headers, _ = request("POST", "/v1/publications", key,
                                     {"slug": "at-shutdown", "kind": "report",
                                      "variants": {"en": {"title": "at shutdown"}}})
        upload = threading.Thread(target=request, daemon=True, args=(
            "PUT", "/v1/publications/at-shutdown/variants/en/file", key, endless,
            {"If-Match": headers["etag"], "Content-Type": "application/pdf"}))
        upload.start()
        time.sleep(1.0)
        asked = time.monotonic()
        server.terminate()
        server.wait(timeout=120)
        stopped = time.monotonic() - asked

    print(f"arkiv hostile PDFs: extraction limits {TIMEOUT_S} s, {MEMORY_MB} MiB; binary {binary}")
    print()
    print("| file | bytes | HTTP | text_status | text_error | upload s | server RSS before → after (MiB) | child peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, size, status, text_status, text_error, took, before, after, peak in rows:
        peak_mib = f"{int(peak) / 1024:.0f}" if peak.isdigit() else peak
        print(f"| {name} | {size:,} | {status} | {text_status} | {text_error or ''} | {took:.2f} | "
              f"{before / 1024:.0f} → {after / 1024:.0f} | {peak_mib} |")
    print()
    print(f"server: same pid throughout: {alive}; RSS {rss_start / 1024:.0f} MiB at the start, "
          f"{rss_end / 1024:.0f} MiB at the end, peak {hwm / 1024:.0f} MiB")
    print(f"reads during the uploads: {reads['count']}, failed {reads['failed']}, "
          f"slowest {reads['slowest'] * 1000:.0f} ms")
    print(f"SIGTERM during an endless extraction: the server stopped in {stopped:.2f} s")


if __name__ == "__main__":
    main()
