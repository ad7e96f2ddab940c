#!/usr/bin/env python3
"""A steady mixed load for a long time (run by bench/soak.sh).

Against a running server (BASE) whose process is PID: RATE requests a
second, open loop, from WORKERS threads, mixed as a public website and its
editors make them — publication details in four languages, list pages with
filters, sorts and cursors, searches, title completions, and writes (new
publications and merge patches of existing ones). Every minute it prints
the server's resident memory, threads, open descriptors and index size;
every BLOCK seconds, p50/p99 and errors per kind of request. At the end it
reads every acknowledged write back: lost writes must be 0.
"""

import http.client
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import defaultdict

BASE_HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ["PORT"])
PID = int(os.environ["PID"])
KEY = os.environ["EDITOR_KEY"]
INDEX_DIR = os.environ["INDEX_DIR"]
QUERIES = os.environ["QUERIES"]
DURATION = float(os.environ.get("DURATION", "1800"))
RATE = float(os.environ.get("RATE", "150"))
BLOCK = float(os.environ.get("BLOCK", "300"))
WORKERS = int(os.environ.get("WORKERS", "12"))
WRITE_SHARE = float(os.environ.get("WRITE_SHARE", "0.01"))
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
LANGS = ["en", "sq", "sr-Latn", "sr-Cyrl"]
KINDS = ["report", "policy_paper", "discussion_conclusions", "media_monitoring"]
SORTS = ["-published_on", "published_on", "title", "-updated_at"]


def log(message):
    print(message, flush=True)


def get_json(conn, path, headers=None):
    conn.request("GET", path, headers={"User-Agent": UA, **(headers or {})})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


class Mix:
    """What to ask next: the archive's slugs, vocabularies and queries."""

    def __init__(self):
        conn = http.client.HTTPConnection(BASE_HOST, PORT, timeout=60)
        self.slugs = []
        cursor = None
        while len(self.slugs) < 5000:
            path = "/v1/publications?limit=100" + (f"&cursor={cursor}" if cursor else "")
            _, page = get_json(conn, path)
            self.slugs += [item["slug"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.projects = [p["slug"] for p in get_json(conn, "/v1/projects?limit=100")[1]["items"]]
        self.fields = [f["slug"] for f in get_json(conn, "/v1/fields?limit=100")[1]["items"]]
        self.years = sorted({int(y) for y in range(2015, 2026)})
        with open(QUERIES) as lines:
            self.queries = [line.strip() for line in lines if line.strip()]
        self.titles = []
        for slug in self.slugs[:300]:
            _, detail = get_json(conn, f"/v1/publications/{slug}?lang=en")
            self.titles.append(detail.get("title") or slug)
        self.cursors = {}  # list path -> a next_cursor seen for it
        self.lock = threading.Lock()
        self.written = 0

    def next(self, rng):
        """(kind, method, path, body or None)."""
        roll = rng.random()
        if roll < WRITE_SHARE:
            with self.lock:
                self.written += 1
                number = self.written
            if number % 2:
                slug = f"soak-{os.getpid()}-{number}"
                body = {"slug": slug, "kind": rng.choice(KINDS),
                        "project": rng.choice(self.projects),
                        "fields": [rng.choice(self.fields)],
                        "variants": {"en": {"title": f"Soak {number}: {rng.choice(self.queries)}",
                                            "body": " ".join(rng.choice(self.queries) for _ in range(30))}}}
                return "write", "POST", "/v1/publications", body
            return "write", "PATCH", rng.choice(self.slugs), {"keywords": [f"soak{number}"]}
        lang = rng.choice(LANGS)
        if roll < 0.45:
            return "detail", "GET", f"/v1/publications/{rng.choice(self.slugs)}?lang={lang}", None
        if roll < 0.70:
            params = []
            if rng.random() < 0.4:
                params.append(f"kind={rng.choice(KINDS)}")
            if rng.random() < 0.3:
                params.append(f"field={rng.choice(self.fields)}")
            if rng.random() < 0.2:
                params.append(f"project={rng.choice(self.projects)}")
            if rng.random() < 0.3:
                params.append(f"language={rng.choice(['sq', 'sr', 'en'])}")
            if rng.random() < 0.2:
                params.append(f"year={rng.choice(self.years)}")
            if rng.random() < 0.5:
                params.append(f"sort={rng.choice(SORTS)}")
            params.append(f"limit={rng.choice([10, 20, 24])}")
            path = "/v1/publications?" + "&".join(params)
            with self.lock:
                cursor = self.cursors.get(path)
            if cursor and rng.random() < 0.5:
                return "list", "GET", f"{path}&cursor={cursor}&lang={lang}", path
            return "list", "GET", f"{path}&lang={lang}", path
        if roll < 0.88:
            q = urllib.parse.quote(rng.choice(self.queries))
            return "search", "GET", f"/v1/search?q={q}&lang={lang}", None
        title = rng.choice(self.titles)
        typed = title[: rng.randint(3, max(3, min(len(title), 14)))]
        return "suggest", "GET", f"/v1/search/suggest?q={urllib.parse.quote(typed)}&lang={lang}", None


class Soak:
    def __init__(self, mix):
        self.mix = mix
        self.tickets = queue.Queue(maxsize=10_000)
        self.results = []  # (t, kind, status, seconds)
        self.acknowledged = []  # (method, slug, keyword or None)
        self.lock = threading.Lock()
        self.running = True

    def worker(self, number):
        rng = random.Random(number)
        conn = http.client.HTTPConnection(BASE_HOST, PORT, timeout=30)
        while True:
            ticket = self.tickets.get()
            if ticket is None:
                return
            kind, method, path, extra = self.mix.next(rng)
            headers = {"User-Agent": UA}
            body = None
            if kind == "write":
                headers["Authorization"] = f"Bearer {KEY}"
                if method == "PATCH":
                    slug = path
                    path = f"/v1/publications/{slug}"
                    try:
                        conn.request("GET", path, headers=headers)
                        response = conn.getresponse()
                        response.read()
                        headers["If-Match"] = response.getheader("ETag") or "*"
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = http.client.HTTPConnection(BASE_HOST, PORT, timeout=30)
                    headers["Content-Type"] = "application/merge-patch+json"
                else:
                    headers["Content-Type"] = "application/json"
                    headers["Idempotency-Key"] = extra["slug"]
                body = json.dumps(extra)
            start = time.monotonic()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status, data = "error", b""
                conn.close()
                conn = http.client.HTTPConnection(BASE_HOST, PORT, timeout=30)
            seconds = time.monotonic() - start
            with self.lock:
                self.results.append((start, kind, status, seconds))
                if kind == "write" and status in (200, 201):
                    if method == "POST":
                        self.acknowledged.append(("POST", extra["slug"], None))
                    else:
                        self.acknowledged.append(("PATCH", slug, extra["keywords"][0]))
            if kind == "list" and status == 200:
                try:
                    cursor = json.loads(data).get("next_cursor")
                except ValueError:
                    cursor = None
                if cursor:
                    with self.mix.lock:
                        self.mix.cursors[extra] = cursor

    def pace(self, started):
        sent = 0
        while self.running:
            due = started + sent / RATE
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                self.tickets.put_nowait(1)
            except queue.Full:
                pass  # the server is this far behind: the block's figures show it
            sent += 1
            if time.monotonic() - started >= DURATION:
                self.running = False


def sample():
    fields = {}
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    rss_mb = int(fields["VmRSS"].split()[0]) / 1024
    anon_mb = int(fields.get("RssAnon", "0 kB").split()[0]) / 1024
    threads = int(fields["Threads"])
    fds = len(os.listdir(f"/proc/{PID}/fd"))
    index = subprocess.run(["du", "-sm", INDEX_DIR], capture_output=True, text=True).stdout.split()
    return rss_mb, anon_mb, threads, fds, int(index[0]) if index else 0


def percentile(values, share):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * share))]


def block_report(soak, first, last, label):
    by_kind = defaultdict(list)
    errors = defaultdict(int)
    with soak.lock:
        rows = [r for r in soak.results if first <= r[0] < last]
    for _, kind, status, seconds in rows:
        by_kind[kind].append(seconds * 1000)
        if status == "error" or (isinstance(status, int) and status >= 500):
            errors[kind] += 1
    parts = []
    for kind in ("detail", "list", "search", "suggest", "write"):
        times = by_kind.get(kind, [])
        parts.append(f"{kind} n={len(times)} p50={percentile(times, 0.5):.1f} "
                     f"p99={percentile(times, 0.99):.1f} err={errors.get(kind, 0)}")
    log(f"block {label}: " + "; ".join(parts))


def main():
    mix = Mix()
    soak = Soak(mix)
    threads = [threading.Thread(target=soak.worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    pacer = threading.Thread(target=soak.pace, args=(started,))
    pacer.start()
    log(f"soak: {RATE:.0f} req/s for {DURATION:.0f} s, {len(mix.slugs)} publications in rotation, "
        f"{WRITE_SHARE:.0%} writes")
    # Resident memory is anonymous (the heap: caches, buffers) plus the
    # pages of mapped files (the index, read by searches; the kernel can
    # drop those at will).
    log("minute  rss_mb  anon_mb  threads  fds  index_mb  rss/index")
    next_minute = started
    next_block = started + BLOCK
    minute = 0
    while soak.running or next_block <= started + DURATION + 0.5:
        now = time.monotonic()
        if now >= next_minute:
            rss, anon, thread_count, fds, index = sample()
            ratio = rss / index if index else 0
            log(f"{minute:6d}  {rss:6.0f}  {anon:7.0f}  {thread_count:7d}  {fds:3d}  {index:8d}  {ratio:9.2f}")
            minute += 1
            next_minute += 60
        if now >= next_block:
            block_report(soak, next_block - BLOCK, next_block,
                         f"{(next_block - BLOCK - started) / 60:.0f}-{(next_block - started) / 60:.0f} min")
            next_block += BLOCK
        if not soak.running and now >= started + DURATION + 0.5:
            break
        time.sleep(0.5)
    pacer.join()
    for _ in threads:
        soak.tickets.put(None)
    for thread in threads:
        thread.join()
    rss, anon, thread_count, fds, index = sample()
    log(f"end     {rss:6.0f}  {anon:7.0f}  {thread_count:7d}  {fds:3d}  {index:8d}  {rss / max(index, 1):9.2f}")
    block_report(soak, started, started + DURATION + 60, "whole run")

    conn = http.client.HTTPConnection(BASE_HOST, PORT, timeout=30)
    latest = {}
    posts = []
    for method, slug, keyword in soak.acknowledged:
        if method == "POST":
            posts.append(slug)
        else:
            latest[slug] = keyword  # acknowledged in this order
    lost = []
    headers = {"Authorization": f"Bearer {KEY}"}
    for slug in posts:
        status, _ = get_json(conn, f"/v1/publications/{slug}", headers)
        if status != 200:
            lost.append((slug, status))
    for slug, keyword in latest.items():
        status, detail = get_json(conn, f"/v1/publications/{slug}", headers)
        if status != 200 or keyword not in (detail.get("keywords") or []):
            lost.append((slug, keyword))
    total = len(soak.results)
    errors = sum(1 for r in soak.results if r[2] == "error" or (isinstance(r[2], int) and r[2] >= 500))
    log(f"requests {total}, 5xx or connection errors {errors}; acknowledged writes "
        f"{len(soak.acknowledged)} ({len(posts)} new, {len(latest)} publications patched, "
        f"last patch of each checked), lost {len(lost)}")
    for item in lost[:10]:
        log(f"  lost {item}")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
