#!/usr/bin/env python3
"""The registration body of a benchmark organisation: organization.py <slug> <n>, with a valid
unified social credit code built from n (GB 32100-2015 check character)."""
import json
import sys

A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
slug, n = sys.argv[1], int(sys.argv[2])
c = "53420000MJ%07d" % n
s = sum(A.index(x) * w for x, w in zip(c, W))
print(json.dumps({"id": slug, "name": "基准慈善会", "credit_code": c + A[(31 - s % 31) % 31], "kind": "foundation",
                  "region_code": "420000", "public_fundraising_qualified": True}, ensure_ascii=False))
