#!/usr/bin/env python3
"""Read latency: p50 and p99 of each public read, one keep-alive client, against GET /healthz.

  latency.py <api> <n> <samples> <receipts with full trails, space separated>

Prints `name<TAB>p50 ms<TAB>p99 ms<TAB>requests` per read. Each kind of read gets at most a minute,
so a slow endpoint gets fewer samples rather than an endless run. Exits non-zero on any non-200.
"""
import http.client
import random
import sys
import time
import urllib.parse

api, n, samples, deep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
u = urllib.parse.urlparse(api)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
random.seed(7)
BUDGET_S = 60
p = u.path
hospitals = [f"bench-hospital-{i}" for i in range(8)]


def measure(make):
    times = []
    deadline = time.time() + BUDGET_S
    for _ in range(samples):
        if times and time.time() > deadline:
            break
        path = make()
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        times.append(time.perf_counter() - t)
        if r.status != 200:
            sys.exit(f"GET {path} answered {r.status}")
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000, len(times)


READS = [
    ("healthz", lambda: f"{p}/healthz"),
    ("trail", lambda: f"{p}/organizations/bench-org/donations/I-{random.randrange(n)}/trail"),
    ("trail_deep", lambda: f"{p}/organizations/bench-org/donations/{random.choice(deep)}/trail"),
    ("summary", lambda: f"{p}/organizations/bench-org/summary"),
    ("timeliness", lambda: f"{p}/organizations/bench-org/timeliness"),
    ("page", lambda: "/organizations/bench-org"),
    ("recipient", lambda: f"{p}/recipients/{random.choice(hospitals)}"),
    ("feed", lambda: f"{p}/organizations/bench-org/entries?after={random.randrange(n)}&limit=100"),
    ("feed_recipient", lambda: f"{p}/organizations/bench-org/disbursements?recipient={random.choice(hospitals)}&limit=100"),
    ("feed_region", lambda: f"{p}/organizations/bench-org/allocations?region=4201{random.randrange(2, 10):02d}&limit=100"),
    ("inclusion", lambda: f"{p}/organizations/bench-org/proofs/inclusion?seq={random.randrange(1, n + 1)}&tree_size={n}"),
]
for name, make in READS:
    p50, p99, count = measure(make)
    print(f"{name}\t{p50:.3f}\t{p99:.3f}\t{count}", flush=True)
