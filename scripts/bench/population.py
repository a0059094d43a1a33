#!/usr/bin/env python3
"""Benchmark population for one organisation, in two parts.

  population.py csv <n> <path>
      The donations: n CSV rows for `givetrail import`. Nine in ten are undesignated money,
      one in ten is N95 respirators designated to Wuhan (420100).

  population.py activity <api> <regulator key> <org> <charity key> <n> <first seq>
      A realistic share of what follows receipt, through the HTTP API with 8 concurrent clients:
      n/50 pool allocations of money, each disbursed and acknowledged by its hospital, and n/100
      designated allocations of the respirators (every tenth donation), each disbursed and
      acknowledged (one in ten with a shortfall). Eight hospitals in Hubei are registered
      first. Prints `<entries written> <seconds>` on one line and, on the next, up to 1,000
      receipt numbers whose trails now run to an acknowledgement.

Fails (non-zero exit) if the service answers any write with an error.
"""
import concurrent.futures
import csv
import http.client
import json
import sys
import threading
import time
import urllib.parse

COLS = ("receipt_number,occurred_at,donor_name,donor_kind,anonymous,donor_public_name,donor_contact,"
        "channel,campaign,restriction,designated_region_code,designated_recipient,purpose,asset_kind,"
        "currency,amount,item,spec,unit,quantity").split(",")
HOSPITALS = [(f"bench-hospital-{i}", f"4201{i + 2:02d}") for i in range(8)]


def write_csv(n, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLS)
        for i in range(n):
            if i % 10 == 9:
                w.writerow([f"I-{i}", "2020-02-01T10:00:00Z", "某医疗器械有限公司", "organization", "false", "", "",
                            "in_kind", "", "designated", "420100", "", "医用", "goods", "", "",
                            "N95 respirator", "GB 19083-2010", "piece", str(100 + i % 900)])
            else:
                w.writerow([f"I-{i}", "2020-02-01T10:00:00Z", "张三", "individual", "false", "",
                            "+86 138 0000 0000", "bank_transfer", "", "", "", "", "", "money", "CNY",
                            f"{1 + i % 997}.{i % 100:02d}", "", "", "", ""])


def money(amount):
    return {"kind": "money", "amount": amount, "currency": "CNY"}


def masks(q):
    return {"kind": "goods", "item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece", "quantity": str(q)}


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, api):
        self.u = urllib.parse.urlparse(api)
        self.local = threading.local()

    def post(self, path, key, body):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.u.hostname, self.u.port, timeout=120)
        conn.request("POST", self.u.path + path, json.dumps(body),
                     {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit(f"POST {path} answered {r.status}: {data[:300]!r}")
        return json.loads(data) if data else {}


def activity(api, reg, org, key, n, first_seq):
    c = Client(api)
    rkeys = {}
    for rid, region in HOSPITALS:
        c.post("/recipients", reg, {"id": rid, "name": f"{rid} 医院", "kind": "hospital", "region_code": region})
        rkeys[rid] = c.post(f"/recipients/{rid}/keys", reg, {})["key"]
    written = [0]
    lock = threading.Lock()

    def chain(alloc_body, units_asset, ack_asset, rid):
        a = c.post(f"/organizations/{org}/allocations", key, alloc_body)
        d = c.post(f"/organizations/{org}/disbursements", key, {
            "allocation": a["seq"], "asset": units_asset, "channel": "logistics" if units_asset["kind"] == "goods" else "bank_transfer",
            "reference": f"R-{a['seq']}", "occurred_at": "2020-02-04T10:00:00Z"})
        c.post(f"/recipients/{rid}/acknowledgements", rkeys[rid], {
            "disbursement": {"organization": org, "seq": d["seq"]}, "asset": ack_asset,
            "received_at": "2020-02-05T10:00:00Z", "occurred_at": "2020-02-05T11:00:00Z"})
        with lock:
            written[0] += 3

    def money_chain(j):
        rid = HOSPITALS[j % len(HOSPITALS)][0]
        amount = f"{50 + j % 400}.00"
        chain({"pool": True, "recipient": rid, "purpose": "medical supplies", "asset": money(amount),
               "occurred_at": "2020-02-03T10:00:00Z"}, money(amount), money(amount), rid)

    def goods_chain(j):
        i = j * 10 + 9  # every tenth donation is designated goods; take the first n/100 of them
        q = 100 + i % 900
        rid = HOSPITALS[j % len(HOSPITALS)][0]
        got = q - 1 if j % 10 == 0 else q
        chain({"donation": first_seq + i, "recipient": rid, "asset": masks(q), "occurred_at": "2020-02-03T10:00:00Z"},
              masks(q), masks(got), rid)

    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(money_chain, j) for j in range(max(1, n // 50))]
        futures += [pool.submit(goods_chain, j) for j in range(max(1, n // 100))]
        for f in futures:
            f.result()
    print(written[0], f"{time.time() - start:.3f}")
    # Designated goods donations that now have an allocation, a disbursement and an acknowledgement.
    print(" ".join(f"I-{j * 10 + 9}" for j in range(min(1000, max(1, n // 100)))))


if __name__ == "__main__":
    if sys.argv[1] == "csv":
        write_csv(int(sys.argv[2]), sys.argv[3])
    else:
        api, reg, org, key, n, first = sys.argv[2:8]
        activity(api, reg, org, key, int(n), int(first))
