#!/usr/bin/env python3
"""A bounded mixed load against a running server, minute by minute (scripts/bench/soak).

  soak.py <base url> <server pid> <minutes> <org> <key> <receipts file>

Writers: 4 threads POST donations to <org>, 5 a second each (20/s, paced, one keep-alive
connection each). Readers: wrk, 16 connections, trails of the receipts in the file, the
organisation's summary and page, for each minute in turn. After each minute, one line:
`minute writes write_p99_ms reads read_p99_ms errors rss_kib`, errors being failed or non-2xx
requests of either kind. Exits non-zero if the server dies."""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

base, pid, minutes, org, key, receipts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
u = urllib.parse.urlparse(base)
lock = threading.Lock()
writes, write_errors = [], [0]
stop = threading.Event()


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


lua = os.path.join(os.path.dirname(receipts), "soak-readers.lua")
with open(lua, "w") as f:
    rs = open(receipts).read().split()
    f.write("local receipts = {" + ",".join(f'"{r}"' for r in rs) + "}\n")
    f.write(f"""local n = 0
request = function()
  n = n + 1
  local k = n % 4
  local path
  if k == 0 then path = "/api/v1/organizations/{org}/summary"
  elseif k == 1 then path = "/organizations/{org}"
  else path = "/api/v1/organizations/{org}/donations/" .. receipts[(n % #receipts) + 1] .. "/trail" end
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d\\n", summary.requests, latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
""")
threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(4)]
for t in threads:
    t.start()
print(f"start 0 0 0 0 0 {rss_kib()}", flush=True)
for m in range(1, minutes + 1):
    out = subprocess.run(["wrk", "-t1", "-c16", "-d60s", "--timeout", "30s", "-s", lua, base],
                         capture_output=True, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("RESULT")), "RESULT 0 0 1")
    reads, read_p99_us, read_errors = (int(x) for x in line.split()[1:])
    with lock:
        ws = sorted(writes)
        writes.clear()
        werr = write_errors[0]
        write_errors[0] = 0
    wp99 = ws[min(len(ws) - 1, int(len(ws) * 0.99))] * 1000 if ws else 0
    try:
        rss = rss_kib()
    except (OSError, StopIteration):
        sys.exit(f"the server (pid {pid}) died in minute {m}")
    print(f"{m} {len(ws)} {wp99:.1f} {reads} {read_p99_us / 1000:.1f} {werr + read_errors} {rss}", flush=True)
stop.set()
