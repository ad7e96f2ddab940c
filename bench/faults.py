#!/usr/bin/env python3
"""Database faults under load, on PostgreSQL (run by bench/faults.sh).

Starts a throwaway PostgreSQL cluster and `arkiv serve` on it (with the
demo archive), puts a steady mixed load on the server (details in four
languages, filtered list pages, a write every few requests) and, one after
another:

  stop      the cluster is stopped (`pg_ctl stop -m immediate`) for
            STOP_S seconds, then started again;
  terminate every session of the server is ended (pg_terminate_backend);
  readonly  the database turns read-only for new sessions and the open ones
            are ended, for READONLY_S seconds; then it is writable again
            (for new sessions only: the pooled ones keep the setting).

For each phase it prints the statuses seen per kind of request, the
slowest answer, the time from the end of the fault to the first good read
and the first good write, and the peaks of the server's threads and file
descriptors. At the end every acknowledged write (a 201) is read back:
lost writes must be 0.
"""

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict

ARKIV = os.environ["ARKIV_BIN"]
WORK = os.environ["WORK"]
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PG_PORT = int(os.environ.get("PG_PORT", "55433"))
PORT = int(os.environ.get("PORT", "18097"))
CLIENTS = int(os.environ.get("CLIENTS", "4"))
STOP_S = float(os.environ.get("STOP_S", "20"))
READONLY_S = float(os.environ.get("READONLY_S", "15"))
SETTLE_S = float(os.environ.get("SETTLE_S", "10"))
WRITE_EVERY = int(os.environ.get("WRITE_EVERY", "10"))
TIMEOUT_S = 15.0
HOST = "127.0.0.1"
DB = "arkiv_faults"
LANGS = ["en", "sq", "sr-Latn", "sr-Cyrl"]
LISTS = [
    "/v1/publications?limit=10",
    "/v1/publications?kind=report&limit=10",
    "/v1/publications?sort=-published_on&limit=5",
    "/v1/publications?language=sq&limit=10",
]


def log(message):
    print(f"== {message}", file=sys.stderr, flush=True)


def as_postgres(*args, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, **kwargs)


def psql(sql, database="postgres"):
    subprocess.run(
        [f"{PG_BIN}/psql", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", database,
         "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        check=True, stdout=subprocess.DEVNULL,
    )


class Cluster:
    def __init__(self):
        self.dir = os.path.join(WORK, "faults-pg")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres")
        as_postgres(f"{PG_BIN}/initdb", "-D", f"{self.dir}/data", "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", stdout=subprocess.DEVNULL)

    def start(self):
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w",
                    "-o", f"-p {PG_PORT} -k /tmp -c listen_addresses={HOST} -c fsync=off",
                    "start", stdout=subprocess.DEVNULL)

    def stop(self):
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop",
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Load:
    """CLIENTS threads, each with one keep-alive connection, until stopped."""

    def __init__(self, details, key):
        self.details = details
        self.key = key
        self.records = []  # (start, kind, status, seconds)
        self.acknowledged = []
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]

    def client(self, number):
        rng = random.Random(number)
        conn = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT_S)
        count = 0
        while self.running:
            count += 1
            headers = {"User-Agent": "Mozilla/5.0 (faults bench)"}
            body = None
            if count % WRITE_EVERY == 0:
                kind, method = "write", "POST"
                slug = f"fault-{number}-{count}"
                path = "/v1/publications"
                headers["Authorization"] = f"Bearer {self.key}"
                headers["Content-Type"] = "application/json"
                body = json.dumps({"slug": slug, "kind": "report", "project": "dialogue-solutions-future",
                                   "variants": {"en": {"title": f"Written under faults {slug}"}}})
            elif count % 3 == 0:
                kind, method = "list", "GET"
                path = rng.choice(LISTS)
            else:
                kind, method = "detail", "GET"
                path = f"{rng.choice(self.details)}?lang={rng.choice(LANGS)}"
            start = time.monotonic()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = "error"
                conn.close()
                conn = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT_S)
            seconds = time.monotonic() - start
            with self.lock:
                self.records.append((start, kind, status, seconds))
                if kind == "write" and status == 201:
                    self.acknowledged.append(slug)

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join()


class Sampler:
    """The server's threads and open descriptors, ten times a second."""

    def __init__(self, pid):
        self.pid = pid
        self.samples = []  # (t, threads, fds)
        self.running = True
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while self.running:
            try:
                with open(f"/proc/{self.pid}/status") as status:
                    threads = next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
                fds = len(os.listdir(f"/proc/{self.pid}/fd"))
                self.samples.append((time.monotonic(), threads, fds))
            except (OSError, StopIteration):
                pass
            time.sleep(0.1)


def phase_report(name, load, sampler, began, fault_end, ended):
    rows = [r for r in load.records if began <= r[0] < ended]
    statuses = defaultdict(Counter)
    for _, kind, status, _ in rows:
        statuses[kind][status] += 1
    slowest = max((r[3] for r in rows), default=0.0)

    def first_good(kind, good):
        times = [r[0] + r[3] for r in rows if r[1] == kind and r[2] == good and r[0] >= fault_end]
        return f"{min(times) - fault_end:.2f} s" if times else "never"

    bad_after = sum(1 for r in rows if r[0] >= fault_end and r[2] not in (200, 201, 304))
    samples = [s for s in sampler.samples if began <= s[0] < ended]
    threads = max((s[1] for s in samples), default=0)
    fds = max((s[2] for s in samples), default=0)
    base_threads = samples[0][1] if samples else 0
    base_fds = samples[0][2] if samples else 0
    print(f"\n{name}: {len(rows)} requests")
    for kind in ("detail", "list", "write"):
        seen = ", ".join(f"{status}×{n}" for status, n in sorted(statuses[kind].items(), key=str))
        print(f"  {kind:7} {seen}")
    print(f"  slowest answer {slowest * 1000:.0f} ms; after the fault ended: first good read "
          f"{first_good('detail', 200)}, first good write {first_good('write', 201)}, "
          f"{bad_after} failed requests")
    print(f"  server threads {base_threads} → peak {threads}; descriptors {base_fds} → peak {fds}")
    five = [r for r in rows if r[2] == 500]
    if five:
        print(f"  500s: {len(five)}")


def main():
    cluster = Cluster()
    cluster.start()
    psql(f"CREATE DATABASE {DB}")
    env = dict(os.environ,
               ARKIV_DATABASE_URL=f"postgres://postgres@{HOST}:{PG_PORT}/{DB}",
               ARKIV_DATA_DIR=os.path.join(WORK, "faults-data"),
               ARKIV_RATE_LIMIT="0", ARKIV_RATE_LIMIT_KEYED="0", ARKIV_CACHE_MB="0",
               ARKIV_LOG=os.environ.get("ARKIV_LOG", "warn"))
    shutil.rmtree(env["ARKIV_DATA_DIR"], ignore_errors=True)
    subprocess.run([ARKIV, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    key = subprocess.run([ARKIV, "keys", "create", "--role", "editor", "--name", "faults"],
                         env=env, check=True, capture_output=True, text=True).stdout.split()[0]
    server_log = open(os.path.join(WORK, "faults-serve.log"), "w")
    server = subprocess.Popen([ARKIV, "serve", "--bind", f"{HOST}:{PORT}", "--workers", "2"],
                              env=env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection(HOST, PORT, timeout=2)
                conn.request("GET", "/v1/publications?limit=100")
                page = json.loads(conn.getresponse().read())
                if page.get("items"):
                    break
            except (OSError, ValueError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not come up; see faults-serve.log")
            time.sleep(0.2)
        details = [f"/v1/publications/{item['slug']}" for item in page["items"]]
        load = Load(details, key)
        sampler = Sampler(server.pid)
        sampler.thread.start()
        load.start()
        log(f"load: {CLIENTS} clients, a write every {WRITE_EVERY} requests")

        began = time.monotonic()
        time.sleep(SETTLE_S)
        phase_report("baseline", load, sampler, began, began, time.monotonic())

        began = time.monotonic()
        log(f"stop: the cluster is stopped for {STOP_S:.0f} s")
        cluster.stop()
        time.sleep(STOP_S)
        cluster.start()
        fault_end = time.monotonic()
        time.sleep(SETTLE_S)
        phase_report(f"stop ({STOP_S:.0f} s, -m immediate)", load, sampler, began, fault_end, time.monotonic())

        began = time.monotonic()
        log("terminate: every session of the server is ended")
        psql(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
             f"WHERE datname = '{DB}' AND pid <> pg_backend_pid()")
        fault_end = time.monotonic()
        time.sleep(SETTLE_S)
        phase_report("terminate (pg_terminate_backend)", load, sampler, began, fault_end, time.monotonic())

        began = time.monotonic()
        log(f"readonly: read-only for {READONLY_S:.0f} s")
        psql(f"ALTER DATABASE {DB} SET default_transaction_read_only = on")
        psql(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
             f"WHERE datname = '{DB}' AND pid <> pg_backend_pid()")
        time.sleep(READONLY_S)
        psql(f"ALTER DATABASE {DB} RESET default_transaction_read_only")
        fault_end = time.monotonic()
        time.sleep(SETTLE_S)
        phase_report(f"read-only ({READONLY_S:.0f} s; then writable for new sessions)",
                     load, sampler, began, fault_end, time.monotonic())

        load.stop()
        sampler.running = False
        sampler.thread.join()
        lost = []
        conn = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT_S)
        for slug in load.acknowledged:
            conn.request("GET", f"/v1/publications/{slug}",
                         headers={"Authorization": f"Bearer {key}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                lost.append((slug, response.status))
        print(f"\nacknowledged writes: {len(load.acknowledged)}, lost: {len(lost)}")
        for slug, status in lost[:10]:
            print(f"  lost {slug}: {status}")
        errors = sum(1 for r in load.records if r[2] == "error")
        print(f"requests: {len(load.records)}, connection errors: {errors}")
        sys.exit(1 if lost else 0)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        cluster.stop()


if __name__ == "__main__":
    main()
