"""Speak to a live Givetrail server through a Python client generated from api-spec/openapi.json.

    python3 tests/openapi_client.py BASE_URL CLIENT_DIR RECEIPT

CLIENT_DIR holds the package `givetrail_client` made by
`openapi-python-client generate --path api-spec/openapi.json --meta none --output-path
CLIENT_DIR/givetrail_client` (tests/it/openapi.rs does both). With the demo's charity key, it records
a donation of 1000.00 CNY to hubei-red-cross under RECEIPT, allocates 600.00 of it to
wuhan-union-hospital and reads the donation's trail, all through the generated functions and
models; it prints one JSON line: the statuses, the seqs and the trail as the client parsed it.
Any refusal or unexpected answer exits non-zero.
"""

import datetime
import json
import sys

BASE, CLIENT_DIR, RECEIPT = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, CLIENT_DIR)

from givetrail_client import AuthenticatedClient  # noqa: E402
from givetrail_client.api.charity_writes import post_allocation, post_donation  # noqa: E402
from givetrail_client.api.disclosure import donation_trail  # noqa: E402
from givetrail_client.models import AllocationRequest, DonationRequest, Trail  # noqa: E402

ORG = "hubei-red-cross"
KEY = "demo-charity-hubei-red-cross"
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=1)

client = AuthenticatedClient(base_url=BASE, token=KEY, raise_on_unexpected_status=True)

# The models parse these bodies as the document describes them (enums, the asset and
# restriction unions) and write them back for the request.
donation = DonationRequest.from_dict(
    {
        "receipt_number": RECEIPT,
        "occurred_at": now.isoformat(),
        "donor": {"name": "王小明", "kind": "individual", "anonymous": False},
        "channel": "bank_transfer",
        "restriction": {"kind": "none"},
        "asset": {"kind": "money", "amount": "1000.00", "currency": "CNY"},
    }
)
d = post_donation.sync_detailed(org=ORG, client=client, body=donation)
if d.status_code != 201:
    sys.exit(f"donation: {d.status_code} {d.content!r}")
donation_seq = json.loads(d.content)["seq"]

allocation = AllocationRequest.from_dict(
    {
        "donation": donation_seq,
        "recipient": "wuhan-union-hospital",
        "purpose": "防护用品采购",
        "asset": {"kind": "money", "amount": "600.00", "currency": "CNY"},
        "occurred_at": now.isoformat(),
    }
)
a = post_allocation.sync_detailed(org=ORG, client=client, body=allocation)
if a.status_code != 201:
    sys.exit(f"allocation: {a.status_code} {a.content!r}")
allocation_seq = json.loads(a.content)["seq"]

t = donation_trail.sync_detailed(org=ORG, receipt_number=RECEIPT, client=client)
if t.status_code != 200 or not isinstance(t.parsed, Trail):
    sys.exit(f"trail: {t.status_code} {t.content!r}")

print(
    json.dumps(
        {
            "donation": {"status": int(d.status_code), "seq": donation_seq},
            "allocation": {"status": int(a.status_code), "seq": allocation_seq},
            "trail": t.parsed.to_dict(),
        },
        ensure_ascii=False,
    )
)
