#!/usr/bin/env python3
"""GET /healthz about 20 times a second for a while, one keep-alive client.

  healthz.py <base url> <seconds>

Prints `p99_ms requests errors` (an error: a failed request, or an answer other than 200)."""
import http.client
import sys
import time
import urllib.parse

u = urllib.parse.urlparse(sys.argv[1])
until = time.time() + float(sys.argv[2])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
times, errors = [], 0
while time.time() < until:
    t = time.perf_counter()
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        errors += r.status != 200
    except OSError:
        errors += 1
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    times.append(time.perf_counter() - t)
    time.sleep(0.05)
times.sort()
print(f"{times[min(len(times) - 1, int(len(times) * 0.99))] * 1000:.1f} {len(times)} {errors}")
