#!/usr/bin/env python3
"""A bounded mixed load against a running server, minute by minute (scripts/bench/soak).

  soak.py <base url> <server pid> <minutes> <org> <key> <receipts file>

Writers: 4 threads POST donations to <org>, 5 a second each (20/s, paced, one keep-alive
connection each). Readers: 16 threads, 100 reads a second in all (SOAK_READ_RATE), paced: trails
of the receipts in the file, the organisation's summary and its page. After each minute, one line:
`minute writes write_p99_ms reads read_p99_ms errors rss_kib`, errors being failed or non-2xx
requests of either kind. Exits non-zero if the server dies."""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

base, pid, minutes, org, key, receipts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
u = urllib.parse.urlparse(base)
lock = threading.Lock()
writes, write_errors = [], [0]
stop = threading.Event()
READERS = 16
READ_RATE = float(os.environ.get("SOAK_READ_RATE", "100"))


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])


def writer(w):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    n, period = 0, 1 / 5
    nxt = time.time()
    while not stop.is_set():
        n += 1
        body = json.dumps({"receipt_number": f"S-{w}-{n}", "occurred_at": "2020-02-01T10:00:00Z",
                           "donor": {"name": "张三", "kind": "individual"}, "channel": "online_platform",
                           "restriction": {"kind": "none"},
                           "asset": {"kind": "money", "amount": f"{1 + n % 500}.00", "currency": "CNY"}})
        t = time.perf_counter()
        try:
            conn.request("POST", f"/api/v1/organizations/{org}/donations", body,
                         {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            ok = 200 <= r.status < 300
        except OSError:
            ok = False
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        with lock:
            writes.append(time.perf_counter() - t)
            write_errors[0] += not ok
        nxt += period
        time.sleep(max(0, nxt - time.time()))


reads, read_errors = [], [0]
paths = [f"/api/v1/organizations/{org}/summary", f"/organizations/{org}"]
trails = [f"/api/v1/organizations/{org}/donations/{r}/trail" for r in open(receipts).read().split()]


def reader(i):
    """One of READERS keep-alive connections, paced at READ_RATE / READERS a second: a quarter
    summaries, a quarter organisation pages, half trails. Paced (a bounded load), so a slower
    server is seen as latency and errors rather than as fewer requests; a reader more than a
    second behind its schedule starts again from now."""
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    n, period = i, READERS / READ_RATE
    nxt = time.time() + period * i / READERS
    while not stop.is_set():
        time.sleep(max(0, nxt - time.time()))
        n += 1
        path = paths[n % 4] if n % 4 < 2 else trails[n % len(trails)]
        t = time.perf_counter()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            ok = r.status == 200
        except OSError:
            ok = False
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        with lock:
            reads.append(time.perf_counter() - t)
            read_errors[0] += not ok
        nxt += period
        if time.time() - nxt > 1:
            nxt = time.time()


threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(4)]
threads += [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(READERS)]
for t in threads:
    t.start()
print(f"start 0 0 0 0 0 {rss_kib()}", flush=True)


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] * 1000 if xs else 0


for m in range(1, minutes + 1):
    time.sleep(60)
    with lock:
        ws, rs = writes[:], reads[:]
        writes.clear()
        reads.clear()
        errors = write_errors[0] + read_errors[0]
        write_errors[0] = read_errors[0] = 0
    try:
        rss = rss_kib()
    except (OSError, StopIteration):
        sys.exit(f"the server (pid {pid}) died in minute {m}")
    print(f"{m} {len(ws)} {p99(ws):.1f} {len(rs)} {p99(rs):.1f} {errors} {rss}", flush=True)
stop.set()
