#!/usr/bin/env python3
"""One keep-alive client for bench/writes.sh: times single API writes.

    writes.py BASE KEY CORPUS MODE REQUESTS WARMUP TIME_LIMIT TAG

MODE is `patch` (a JSON merge patch of one publication's keywords, with
If-Match: the ETag of the version the previous answer named, rotating
over up to 50 publications of the corpus) or `post` (a new published
publication naming a project, an event and a field of the corpus). Every
request goes over the same HTTP/1.1 connection; the time of each is from
sending it to reading its whole answer. Prints one line:

    RESULT mode=patch n=300 p50=… p90=… p99=… mean=… max=… failed=0 seconds=…

(milliseconds). Stops after REQUESTS measured writes (after WARMUP
unmeasured ones) or TIME_LIMIT seconds, whichever comes first.
"""

import http.client
import json
import sys
import time
import urllib.parse

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


def corpus_slugs(path):
    """The publications, projects, events and fields the corpus holds."""
    found = {"publication": [], "project": [], "event": [], "field": []}
    with open(path, encoding="utf-8") as corpus:
        for line in corpus:
            record = json.loads(line)
            kind = record.get("type")
            if kind in found:
                found[kind].append(record["slug"])
    return found


class Client:
    def __init__(self, base, key):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.auth = f"Bearer {key}"

    def send(self, method, path, body=None, headers=None):
        sent = {"Authorization": self.auth, "User-Agent": USER_AGENT}
        if body is not None:
            sent["Content-Type"] = (
                "application/merge-patch+json" if method == "PATCH" else "application/json"
            )
            body = json.dumps(body).encode()
        sent.update(headers or {})
        self.conn.request(method, path, body=body, headers=sent)
        answer = self.conn.getresponse()
        data = answer.read()
        return answer.status, answer.getheader("ETag"), data


def percentile(sorted_ms, share):
    if not sorted_ms:
        return float("nan")
    at = min(len(sorted_ms) - 1, max(0, int(round(share * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[at]


def main():
    base, key, corpus, mode = sys.argv[1:5]
    requests, warmup, limit = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
    tag = sys.argv[8]
    slugs = corpus_slugs(corpus)
    client = Client(base, key)
    etags = {}
    targets = slugs["publication"][:50]
    if mode == "patch":
        for slug in targets:
            status, etag, data = client.send("GET", f"/v1/publications/{slug}?lang=all")
            if status != 200 or not etag:
                sys.exit(f"GET {slug}: {status} {data[:200]!r}")
            etags[slug] = etag

    def write(n):
        if mode == "patch":
            slug = targets[n % len(targets)]
            status, etag, data = client.send(
                "PATCH",
                f"/v1/publications/{slug}",
                {"keywords": [f"{tag}-{n}"]},
                {"If-Match": etags[slug]},
            )
            if status == 200 and etag:
                etags[slug] = etag
            return status, data
        body = {
            "slug": f"{tag}-{n}",
            "kind": "report",
            "status": "published",
            "published_on": "2026-01-15",
            "project": slugs["project"][n % len(slugs["project"])],
            "event": slugs["event"][n % len(slugs["event"])],
            "fields": [slugs["field"][n % len(slugs["field"])]],
            "authors": ["Bench Writer"],
            "keywords": ["bench"],
            "variants": {
                "en": {
                    "title": f"Benchmark write {n} of {tag}",
                    "summary": "A publication written by the write benchmark.",
                    "body": "Roads, bridges and the dialogue that decides them. " * 40,
                }
            },
        }
        status, _, data = client.send("POST", "/v1/publications", body)
        return status, data

    times, failed = [], 0
    started = time.monotonic()
    for n in range(warmup + requests):
        if time.monotonic() - started > limit:
            break
        t0 = time.perf_counter()
        status, data = write(n)
        elapsed = (time.perf_counter() - t0) * 1000
        ok = status == (201 if mode == "post" else 200)
        if not ok:
            failed += 1
            if failed <= 3:
                print(f"{mode} {n}: {status} {data[:300]!r}", file=sys.stderr)
        if n >= warmup:
            times.append(elapsed)
    seconds = time.monotonic() - started
    times.sort()
    mean = sum(times) / len(times) if times else float("nan")
    print(
        f"RESULT mode={mode} n={len(times)} p50={percentile(times, 0.50):.2f} "
        f"p90={percentile(times, 0.90):.2f} p99={percentile(times, 0.99):.2f} "
        f"mean={mean:.2f} max={(times[-1] if times else float('nan')):.2f} "
        f"failed={failed} seconds={seconds:.1f}"
    )


if __name__ == "__main__":
    main()
