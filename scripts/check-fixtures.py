#!/usr/bin/env python3
"""Check the internal consistency of a Givetrail fixture file (default: fixtures/demo.json).

The fixture is a list of HTTP writes replayed in order through the real API, so every
step must be acceptable at its point in time. This script replays the steps against a
small model of the ledger rules (CONTRACT.md §2, §3) and refuses the file on the first
step the server would refuse, or on anything that would make the demo misleading:

* registrations: slugs, kinds, GB/T 2260 region codes, GB 32100-2015 credit codes
  (check character, and the embedded GB 11714 organisation-code check character),
  the registering regulator's jurisdiction;
* per-organisation logs: seq is 1, 2, 3 … for every entry written to the organisation's
  log, including acknowledgements and usage reports that recipients post against its
  disbursements; every reference (donation, allocation, disbursement, corrected entry)
  names a live entry of the right kind;
* arithmetic with exact decimals: never allocate or spend more than remains of a
  donation or of the undesignated pool of an asset (attributed oldest-first), never
  disburse more than remains of an allocation, acknowledged <= disbursed, used <=
  acknowledged;
* designations (region prefix, named recipient, designation_change with consent),
  related parties, corrections (no live dependants; a replacement takes over the
  correction's seq), transfers between charities (source_disbursement), and that
  timestamps are plausible and causally ordered.

It then checks that the story covers what the demo is meant to show (see
fixtures/README.md) and prints a summary: entries per kind, each organisation's final
seq, and per-asset balances.

Usage: scripts/check-fixtures.py [--entries] [path/to/demo.json]
  --entries  also list every log entry as org#seq, with what it is (handy when writing
             tests that reference seqs).
Exits 0 when the file is consistent, 1 with a message naming the step otherwise.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

# --------------------------------------------------------------------------- codes

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
# GB 32100-2015 table 1: registration authority -> allowed category codes.
CREDIT_CATEGORIES = {
    "1": "1239", "5": "1239", "9": "123", "Y": "1",
    "2": "19", "3": "12345679", "4": "129", "6": "129", "7": "129", "8": "19",
    "A": "19", "N": "1239",
}
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}
CURRENCY_DECIMALS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "GBP": 2, "JPY": 0}


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_WEIGHTS))
    c = 31 - total % 31
    return CREDIT_ALPHABET[0 if c == 31 else c]


def org_code_check_char(first8: str) -> str:
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(first8, ORG_CODE_WEIGHTS)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def credit_code_problem(code: object) -> str | None:
    """Why `code` is not a valid unified social credit code, or None."""
    if not isinstance(code, str) or len(code) != 18:
        return f"credit code {code!r} must be an 18-character string"
    bad = [ch for ch in code if ch not in CREDIT_ALPHABET]
    if bad:
        return f"credit code {code} uses characters outside the GB 32100 alphabet: {''.join(bad)}"
    authority, category = code[0], code[1]
    if category not in CREDIT_CATEGORIES.get(authority, ""):
        return f"credit code {code}: registration authority {authority!r} has no category {category!r}"
    region = code[2:8]
    if not region.isdigit() or (region != "100000" and region[:2] not in PROVINCES):
        return f"credit code {code}: {region!r} is not an administrative division code"
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        return f"credit code {code}: check character is {code[17]!r}, should be {expected!r}"
    org_code = code[8:17]
    if re.fullmatch(r"[0-9A-Z]{8}[0-9X]", org_code) and org_code_check_char(org_code[:8]) != org_code[8]:
        return (f"credit code {code}: organisation code {org_code} fails its GB 11714 check "
                f"(should end in {org_code_check_char(org_code[:8])!r})")
    return None


def region_problem(code: object) -> str | None:
    if not isinstance(code, str) or not re.fullmatch(r"\d{6}", code):
        return f"region code {code!r} must be 6 digits"
    if code[:2] not in PROVINCES:
        return f"region code {code} names no province"
    return None


def region_prefix(code: str) -> str:
    """420000 -> '42', 420100 -> '4201', 420103 -> '420103'."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


# --------------------------------------------------------------------------- values

class Refused(Exception):
    """The server would refuse this step (or the fixture would mislead)."""


SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
DECIMAL = re.compile(r"(0|[1-9][0-9]*)(\.([0-9]+))?")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
SHA256 = re.compile(r"[0-9a-f]{64}")
EARLIEST = datetime(2019, 12, 1, tzinfo=timezone.utc)
LATEST = datetime(2021, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def need(cond: bool, message: str) -> None:
    if not cond:
        raise Refused(message)


def fields(obj: object, what: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    need(isinstance(obj, dict), f"{what} must be an object")
    missing = required - obj.keys()
    extra = obj.keys() - required - optional
    need(not missing, f"{what} lacks {sorted(missing)}")
    need(not extra, f"{what} has unexpected fields {sorted(extra)}")
    return obj


def text(obj: dict, name: str, what: str) -> str:
    value = obj.get(name)
    need(isinstance(value, str) and value.strip() != "", f"{what}.{name} must be a non-empty string")
    return value


def slug(value: object, what: str) -> str:
    need(isinstance(value, str) and SLUG.fullmatch(value) is not None and len(value) <= 64,
         f"{what} {value!r} is not a slug (lowercase letters, digits, single hyphens)")
    return value


def timestamp(value: object, what: str) -> datetime:
    need(isinstance(value, str) and RFC3339.fullmatch(value) is not None,
         f"{what} {value!r} is not an RFC 3339 timestamp")
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    need(EARLIEST <= when <= LATEST, f"{what} {value} is outside the story (Dec 2019 – 2021)")
    return when


def decimal(value: object, what: str, max_places: int) -> Decimal:
    need(isinstance(value, str), f"{what} must be a decimal string, not {type(value).__name__}")
    m = DECIMAL.fullmatch(value)
    need(m is not None, f"{what} {value!r} is not a plain decimal")
    places = len(m.group(3) or "")
    need(places <= max_places, f"{what} {value} has {places} decimals, at most {max_places} allowed")
    amount = Decimal(value)
    need(amount > 0, f"{what} must be > 0")
    return amount


@dataclass(frozen=True)
class Asset:
    key: tuple  # ("money", currency) or ("goods", item, spec, unit)
    quantity: Decimal

    def label(self) -> str:
        return asset_label(self.key)


def asset_label(key: tuple) -> str:
    return key[1] if key[0] == "money" else f"{key[1]} [{key[2]}] ({key[3]})"


def fmt(key: tuple, q: Decimal) -> str:
    return f"{q:,.2f} {key[1]}" if key[0] == "money" else f"{q:,} × {asset_label(key)}"


def money(obj: object, what: str) -> Asset:
    fields(obj, what, {"kind", "amount", "currency"})
    need(obj["kind"] == "money", f"{what}.kind must be money")
    currency = obj["currency"]
    need(currency in CURRENCY_DECIMALS, f"{what}.currency {currency!r} is not a known ISO 4217 code")
    return Asset(("money", currency), decimal(obj["amount"], f"{what}.amount", CURRENCY_DECIMALS[currency]))


def asset(obj: object, what: str) -> Asset:
    need(isinstance(obj, dict), f"{what} must be an asset object")
    if obj.get("kind") == "money":
        return money(obj, what)
    need(obj.get("kind") == "goods", f"{what}.kind must be money or goods")
    fields(obj, what, {"kind", "item", "spec", "unit", "quantity"}, {"declared_value"})
    for name in ("item", "spec", "unit"):
        text(obj, name, what)
    if "declared_value" in obj:
        money(obj["declared_value"], f"{what}.declared_value")
    return Asset(("goods", obj["item"], obj["spec"], obj["unit"]),
                 decimal(obj["quantity"], f"{what}.quantity", 3))


# --------------------------------------------------------------------------- ledger model

@dataclass
class Entry:
    org: str
    seq: int
    kind: str          # kind as written (entry.corrected for corrections)
    live_as: str       # what the entry stands for while live (a correction with a replacement stands for the replaced kind)
    body: dict
    step: int
    at: datetime
    void: bool = False
    # kind-specific state
    asset: Asset | None = None
    taken: Decimal = Decimal(0)               # donation: allocated + expensed; allocation: disbursed
    draws: list = field(default_factory=list)  # allocation/expense: [(donation Entry, qty)]
    acknowledged: Decimal | None = None        # disbursement
    used: Decimal = Decimal(0)                 # disbursement
    recipient: str | None = None              # allocation, disbursement
    parent: "Entry | None" = None             # disbursement -> allocation; ack/usage -> disbursement
    dependants: list = field(default_factory=list)
    correction: dict | None = None            # the entry.corrected body when this entry is a replacement
    replaces: "Entry | None" = None

    def remaining(self) -> Decimal:
        return self.asset.quantity - self.taken

    def ref(self) -> str:
        return f"{self.org}#{self.seq}"

    def live_dependants(self) -> list:
        return [d for d in self.dependants if not d.void]


def received_at(donation: Entry) -> datetime:
    """When a donation was received (a replacement's own occurred_at, not its correction's)."""
    return datetime.fromisoformat(donation.body["occurred_at"].replace("Z", "+00:00"))


class Ledger:
    def __init__(self, keys: dict):
        self.keys = keys
        self.orgs: dict[str, dict] = {}
        self.recipients: dict[str, dict] = {}
        self.logs: dict[str, list[Entry]] = {}
        self.campaigns: dict[str, dict[str, Entry]] = {}
        self.receipts: dict[str, dict[str, Entry]] = {}
        self.used_sources: dict[tuple, Entry] = {}
        self.pool_allocations: list[tuple[Entry, list]] = []
        self.transfers: list[tuple[Entry, Entry]] = []

    # ---- lookups
    def live(self, org: str, seq: object, kind: str, what: str) -> Entry:
        need(isinstance(seq, int) and not isinstance(seq, bool), f"{what} must be an integer seq")
        log = self.logs.get(org)
        need(log is not None, f"{what}: no organisation {org!r}")
        need(1 <= seq <= len(log), f"{what}: {org} has no entry {seq} yet (its log has {len(log)})")
        entry = log[seq - 1]
        need(entry.live_as == kind,
             f"{what}: {entry.ref()} is {entry.live_as}, not {kind}")
        need(not entry.void, f"{what}: {entry.ref()} was voided by a correction")
        return entry

    def append(self, org: str, kind: str, live_as: str, body: dict, step: int, at: datetime) -> Entry:
        entry = Entry(org, len(self.logs[org]) + 1, kind, live_as, body, step, at)
        self.logs[org].append(entry)
        return entry

    def lots(self, org: str, key: tuple) -> list[Entry]:
        """Undesignated live donations of an asset, oldest (lowest seq) first."""
        lots = [e for e in self.logs[org]
                if e.live_as == "donation.received" and not e.void and e.asset.key == key
                and e.body["restriction"]["kind"] == "none"]
        # "Oldest first" must not depend on whether the server orders lots by seq or by
        # received time, so the fixture keeps the two orders the same.
        for older, newer in zip(lots, lots[1:]):
            need(received_at(older) <= received_at(newer),
                 f"pool lots {older.ref()} and {newer.ref()} of {asset_label(key)} are received in the "
                 f"opposite order of their seqs; oldest-first attribution would be ambiguous")
        return lots

    def draw(self, org: str, body: dict, a: Asset, what: str, at: datetime) -> list:
        """Which lots `body` ({"donation": seq} or {"pool": true}) takes `a` from, without taking it."""
        has_donation, has_pool = "donation" in body, "pool" in body
        need(has_donation != has_pool, f"{what} must name exactly one of donation or pool")
        if has_donation:
            lot = self.live(org, body["donation"], "donation.received", f"{what}.donation")
            need(lot.asset.key == a.key,
                 f"{what}: asset {a.label()} differs from donation {lot.ref()}'s {lot.asset.label()}")
            need(a.quantity <= lot.remaining(),
                 f"{what}: {fmt(a.key, a.quantity)} exceeds what remains of {lot.ref()} "
                 f"({lot.body['receipt_number']}): {fmt(a.key, lot.remaining())}")
            need(at >= received_at(lot), f"{what}: occurred before donation {lot.ref()} was received")
            return [(lot, a.quantity)]
        need(body["pool"] is True, f"{what}.pool must be true")
        left, draws = a.quantity, []
        for lot in self.lots(org, a.key):
            if left == 0:
                break
            take = min(left, lot.remaining())
            if take > 0:
                need(at >= received_at(lot), f"{what}: draws on {lot.ref()} which is received later")
                draws.append((lot, take))
                left -= take
        pool = sum((lot.remaining() for lot in self.lots(org, a.key)), Decimal(0))
        need(left == 0, f"{what}: {fmt(a.key, a.quantity)} exceeds the undesignated pool of "
                        f"{org}: {fmt(a.key, pool)}")
        return draws

    def authorise(self, step: dict, role: str, subject: str | None = None) -> dict:
        key = self.keys.get(step.get("as"))
        need(key is not None, f"'as' {step.get('as')!r} is not one of the fixture's keys")
        need(key["role"] == role, f"{step['as']} is a {key['role']} key; this write needs a {role} key")
        if role == "charity":
            need(key["organization"] == subject, f"{step['as']} is bound to {key['organization']}, not {subject}")
        if role == "recipient":
            need(key["recipient"] == subject, f"{step['as']} is bound to {key['recipient']}, not {subject}")
        return key

    # ---- registrations
    def register_org(self, step: dict, body: dict) -> None:
        fields(body, "organisation", {"id", "name", "credit_code", "kind", "region_code", "public_fundraising_qualified"})
        oid = slug(body["id"], "organisation id")
        need(oid not in self.orgs, f"organisation {oid} is already registered")
        text(body, "name", "organisation")
        need(body["kind"] in {"red_cross", "charity_federation", "foundation", "social_organization", "other"},
             f"organisation kind {body['kind']!r} is unknown")
        need((p := region_problem(body["region_code"])) is None, p)
        need((p := credit_code_problem(body["credit_code"])) is None, p)
        cc_region = body["credit_code"][2:8]
        need(cc_region == "100000" or cc_region[:2] == body["region_code"][:2],
             f"credit code {body['credit_code']} was issued in {cc_region}, outside {body['region_code']}")
        need(body["credit_code"] not in {o["credit_code"] for o in self.orgs.values()},
             f"credit code {body['credit_code']} is already used by another organisation")
        need(isinstance(body["public_fundraising_qualified"], bool), "public_fundraising_qualified must be a boolean")
        key = self.authorise(step, "regulator")
        need(body["region_code"].startswith(key["jurisdiction"]),
             f"{step['as']} (jurisdiction {key['jurisdiction']!r}) cannot register an organisation in {body['region_code']}")
        self.orgs[oid] = body
        self.logs[oid], self.campaigns[oid], self.receipts[oid] = [], {}, {}

    def register_recipient(self, step: dict, body: dict) -> None:
        fields(body, "recipient", {"id", "name", "kind", "region_code"}, {"credit_code", "organization"})
        rid = slug(body["id"], "recipient id")
        need(rid not in self.recipients, f"recipient {rid} is already registered")
        text(body, "name", "recipient")
        need(body["kind"] in {"hospital", "welfare_institution", "community", "government_agency", "charity",
                              "individual_aid", "other"}, f"recipient kind {body['kind']!r} is unknown")
        need((p := region_problem(body["region_code"])) is None, p)
        linked = body.get("organization")
        if linked is not None:
            need(body["kind"] == "charity", "only a recipient of kind charity may be linked to an organisation")
            need(linked in self.orgs, f"recipient {rid} is linked to unknown organisation {linked!r}")
        code = body.get("credit_code")
        if code is not None:
            need((p := credit_code_problem(code)) is None, p)
            need(code[2:8] == "100000" or code[2:4] == body["region_code"][:2],
                 f"credit code {code} was issued in {code[2:8]}, outside {body['region_code']}")
            others = {r["credit_code"] for r in self.recipients.values() if r.get("credit_code")}
            need(code not in others, f"credit code {code} is already used by another recipient")
            owner = next((o for o, b in self.orgs.items() if b["credit_code"] == code), None)
            need(owner is None or owner == linked,
                 f"credit code {code} belongs to organisation {owner}; link the recipient to it")
        author = self.keys.get(step.get("as"), {})
        # The contract lets a charity add recipients too; a regulator only within its jurisdiction.
        key = self.authorise(step, "charity", author["organization"]) if author.get("role") == "charity" \
            else self.authorise(step, "regulator")
        if key["role"] == "regulator":
            need(body["region_code"].startswith(key["jurisdiction"]),
                 f"{step['as']} (jurisdiction {key['jurisdiction']!r}) cannot register a recipient in {body['region_code']}")
        self.recipients[rid] = body

    def recipient(self, rid: object, what: str) -> dict:
        need(isinstance(rid, str) and rid in self.recipients, f"{what}: no recipient {rid!r} registered yet")
        return self.recipients[rid]

    # ---- entries
    def campaign(self, org: str, body: dict, step: int, at: datetime | None = None,
                 kind: str = "campaign.opened") -> Entry:
        fields(body, "campaign", {"id", "title", "purpose", "region_code", "public_fundraising", "record_number",
                                  "emergency", "starts_at", "ends_at", "targets", "occurred_at"})
        cid = slug(body["id"], "campaign id")
        need(cid not in self.campaigns[org], f"{org} already has a campaign {cid}")
        text(body, "title", "campaign")
        text(body, "purpose", "campaign")
        need((p := region_problem(body["region_code"])) is None, p)
        need(isinstance(body["public_fundraising"], bool) and isinstance(body["emergency"], bool),
             "campaign public_fundraising and emergency must be booleans")
        if body["public_fundraising"]:
            text(body, "record_number", "campaign (raising from the public)")
            need(self.orgs[org]["public_fundraising_qualified"],
                 f"{org} is not qualified for public fundraising")
        else:
            need(body["record_number"] is None or isinstance(body["record_number"], str), "record_number must be a string or null")
        starts = timestamp(body["starts_at"], "campaign.starts_at")
        if body["ends_at"] is not None:
            need(timestamp(body["ends_at"], "campaign.ends_at") > starts, "campaign ends before it starts")
        need(isinstance(body["targets"], list), "campaign.targets must be a list")
        keys = [asset(t, f"campaign.targets[{i}]").key for i, t in enumerate(body["targets"])]
        need(len(keys) == len(set(keys)), "campaign.targets names an asset twice")
        at = at or timestamp(body["occurred_at"], "campaign.occurred_at")
        entry = self.append(org, kind, "campaign.opened", body, step, at)
        self.campaigns[org][cid] = entry
        return entry

    def donation(self, org: str, body: dict, step: int, at: datetime | None = None,
                 kind: str = "donation.received") -> Entry:
        fields(body, "donation", {"receipt_number", "occurred_at", "donor", "channel", "restriction", "asset"},
               {"campaign", "source_disbursement"})
        receipt = text(body, "receipt_number", "donation")
        need(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", receipt) is not None,
             f"receipt number {receipt!r} must be safe in a URL path")
        need(receipt not in self.receipts[org], f"{org} already has a live donation with receipt {receipt}")
        received = timestamp(body["occurred_at"], "donation.occurred_at")
        donor = fields(body["donor"], "donor", {"name", "kind", "anonymous"}, {"public_name", "contact", "related_recipients"})
        text(donor, "name", "donor")
        need(donor["kind"] in {"individual", "organization"}, f"donor.kind {donor['kind']!r} is unknown")
        need(isinstance(donor["anonymous"], bool), "donor.anonymous must be a boolean")
        if "public_name" in donor:
            text(donor, "public_name", "donor")
            need(not donor["anonymous"], "an anonymous donor cannot also have a public_name")
        if "contact" in donor:
            text(donor, "contact", "donor")
        related = donor.get("related_recipients", [])
        need(isinstance(related, list), "donor.related_recipients must be a list")
        for rid in related:
            self.recipient(rid, "donor.related_recipients")
        need(body["channel"] in {"bank_transfer", "online_platform", "cash", "in_kind", "transfer_from_charity"},
             f"donation channel {body['channel']!r} is unknown")
        a = asset(body["asset"], "donation.asset")
        fitting = {"in_kind", "transfer_from_charity"} if a.key[0] == "goods" else \
            {"bank_transfer", "online_platform", "cash", "transfer_from_charity"}
        need(body["channel"] in fitting, f"channel {body['channel']} does not fit a {a.key[0]} donation")
        if "campaign" in body:
            camp = self.campaigns[org].get(body["campaign"])
            need(camp is not None and not camp.void, f"{org} has no campaign {body['campaign']!r}")
            need(received >= timestamp(camp.body["starts_at"], "starts_at"),
                 f"donation received before campaign {body['campaign']} started")
            if camp.body["ends_at"] is not None:
                need(received <= timestamp(camp.body["ends_at"], "ends_at"),
                     f"donation received after campaign {body['campaign']} ended")
        restriction = body["restriction"]
        need(isinstance(restriction, dict) and restriction.get("kind") in {"none", "designated"},
             "restriction.kind must be none or designated")
        if restriction["kind"] == "none":
            fields(restriction, "restriction", {"kind"})
        else:
            fields(restriction, "restriction", {"kind"}, {"region_code", "recipient", "purpose"})
            need(len(restriction) > 1, "a designated restriction names a region, a recipient or a purpose")
            if "region_code" in restriction:
                need((p := region_problem(restriction["region_code"])) is None, p)
            if "purpose" in restriction:
                text(restriction, "purpose", "restriction")
            if "recipient" in restriction:
                named = self.recipient(restriction["recipient"], "restriction.recipient")
                need(restriction["recipient"] not in related,
                     f"the donor is related to {restriction['recipient']} and may not designate it")
                if "region_code" in restriction:
                    need(named["region_code"].startswith(region_prefix(restriction["region_code"])),
                         f"designated recipient {restriction['recipient']} lies outside designated region "
                         f"{restriction['region_code']}")
        source = None
        if "source_disbursement" in body:
            ref = fields(body["source_disbursement"], "source_disbursement", {"organization", "disbursement"})
            need(ref["organization"] != org, "source_disbursement must name another organisation")
            source = self.live(ref["organization"], ref["disbursement"], "disbursement.made", "source_disbursement")
            to = self.recipients[source.recipient]
            need(to["kind"] == "charity" and to.get("organization") == org,
                 f"source disbursement {source.ref()} went to {source.recipient}, which is not linked to {org}")
            need(body["channel"] == "transfer_from_charity", "a gift with source_disbursement has channel transfer_from_charity")
            need(source.asset.key == a.key and a.quantity <= source.asset.quantity,
                 f"donation {fmt(a.key, a.quantity)} does not match source disbursement "
                 f"{fmt(source.asset.key, source.asset.quantity)}")
            need((source.org, source.seq) not in self.used_sources,
                 f"source disbursement {source.ref()} is already recorded as a donation")
            need(received >= source.at, "the gift is received before the giving charity disbursed it")
            need(donor["kind"] == "organization" and donor["name"] == self.orgs[source.org]["name"],
                 f"donor should be {self.orgs[source.org]['name']} (the giving charity)")
        entry = self.append(org, kind, "donation.received", body, step, at or received)
        entry.asset = a
        if "campaign" in body:
            self.campaigns[org][body["campaign"]].dependants.append(entry)
        self.receipts[org][receipt] = entry
        if source is not None:
            source.dependants.append(entry)
            self.used_sources[(source.org, source.seq)] = entry
            self.transfers.append((source, entry))
        return entry

    def allocation(self, org: str, body: dict, step: int, at: datetime | None = None,
                   kind: str = "allocation.made") -> Entry:
        fields(body, "allocation", {"recipient", "purpose", "asset", "occurred_at"},
               {"donation", "pool", "designation_change", "need"})
        when = timestamp(body["occurred_at"], "allocation.occurred_at")
        rid = body["recipient"]
        to = self.recipient(rid, "allocation.recipient")
        need(to.get("organization") != org, f"{org} cannot allocate to itself")
        text(body, "purpose", "allocation")
        a = asset(body["asset"], "allocation.asset")
        draws = self.draw(org, body, a, "allocation", when)
        change = body.get("designation_change")
        if change is not None:
            fields(change, "designation_change", {"reason", "donor_consent_reference"})
            text(change, "reason", "designation_change")
            text(change, "donor_consent_reference", "designation_change")
        for lot, _ in draws:
            restriction = lot.body["restriction"]
            related = lot.body["donor"].get("related_recipients", [])
            need(rid not in related,
                 f"{lot.ref()} ({lot.body['receipt_number']}) comes from a donor related to {rid}")
            if restriction["kind"] != "designated":
                need(change is None, "designation_change on an allocation from undesignated funds")
                continue
            inside = "region_code" not in restriction or \
                to["region_code"].startswith(region_prefix(restriction["region_code"]))
            named = "recipient" not in restriction or restriction["recipient"] == rid
            if inside and named:
                need(change is None, f"designation_change given, but the allocation honours {lot.ref()}'s designation")
            else:
                need(change is not None,
                     f"{lot.ref()} ({lot.body['receipt_number']}) is designated to "
                     f"{restriction.get('recipient') or restriction.get('region_code')}; allocating to {rid} "
                     f"({to['region_code']}) needs a designation_change with the donor's consent")
        entry = self.append(org, kind, "allocation.made", body, step, at or when)
        entry.asset, entry.recipient, entry.draws = a, rid, draws
        for lot, q in draws:
            lot.taken += q
            lot.dependants.append(entry)
        if "pool" in body:
            self.pool_allocations.append((entry, draws))
        return entry

    def disbursement(self, org: str, body: dict, step: int, at: datetime | None = None,
                     kind: str = "disbursement.made") -> Entry:
        fields(body, "disbursement", {"allocation", "asset", "channel", "reference", "occurred_at"})
        when = timestamp(body["occurred_at"], "disbursement.occurred_at")
        alloc = self.live(org, body["allocation"], "allocation.made", "disbursement.allocation")
        a = asset(body["asset"], "disbursement.asset")
        need(a.key == alloc.asset.key, f"disbursement asset {a.label()} differs from allocation's {alloc.asset.label()}")
        need(a.quantity <= alloc.remaining(),
             f"disbursement {fmt(a.key, a.quantity)} exceeds what remains of allocation {alloc.ref()}: "
             f"{fmt(a.key, alloc.remaining())}")
        need(body["channel"] in {"bank_transfer", "logistics", "hand_delivery", "other"},
             f"disbursement channel {body['channel']!r} is unknown")
        need(a.key[0] == "goods" or body["channel"] != "logistics", "money is not shipped by logistics")
        need(a.key[0] == "money" or body["channel"] != "bank_transfer", "goods do not travel by bank transfer")
        text(body, "reference", "disbursement")
        need(when >= alloc.at, f"disbursement occurred before allocation {alloc.ref()}")
        entry = self.append(org, kind, "disbursement.made", body, step, at or when)
        entry.asset, entry.recipient, entry.parent = a, alloc.recipient, alloc
        alloc.taken += a.quantity
        alloc.dependants.append(entry)
        return entry

    def expense(self, org: str, body: dict, step: int, at: datetime | None = None,
                kind: str = "expense.recorded") -> Entry:
        fields(body, "expense", {"asset", "description", "occurred_at"}, {"donation", "pool"})
        when = timestamp(body["occurred_at"], "expense.occurred_at")
        text(body, "description", "expense")
        a = asset(body["asset"], "expense.asset")
        draws = self.draw(org, body, a, "expense", when)
        entry = self.append(org, kind, "expense.recorded", body, step, at or when)
        entry.asset, entry.draws = a, draws
        for lot, q in draws:
            lot.taken += q
            lot.dependants.append(entry)
        return entry

    def recipient_disbursement(self, rid: str, body: dict, what: str) -> Entry:
        ref = fields(body.get("disbursement"), f"{what}.disbursement", {"organization", "seq"})
        disb = self.live(ref["organization"], ref["seq"], "disbursement.made", f"{what}.disbursement")
        need(disb.recipient == rid, f"{what}: disbursement {disb.ref()} went to {disb.recipient}, not {rid}")
        return disb

    def acknowledgement(self, rid: str, body: dict, step: int) -> Entry:
        fields(body, "acknowledgement", {"disbursement", "asset", "received_at", "note", "occurred_at"})
        disb = self.recipient_disbursement(rid, body, "acknowledgement")
        need(disb.acknowledged is None, f"disbursement {disb.ref()} is already acknowledged")
        a = asset(body["asset"], "acknowledgement.asset")
        need(a.key == disb.asset.key, f"acknowledged {a.label()} but {disb.ref()} disbursed {disb.asset.label()}")
        need(a.quantity <= disb.asset.quantity,
             f"acknowledged {fmt(a.key, a.quantity)} exceeds what {disb.ref()} disbursed")
        received = timestamp(body["received_at"], "acknowledgement.received_at")
        when = timestamp(body["occurred_at"], "acknowledgement.occurred_at")
        need(received >= disb.at, f"received before {disb.ref()} was disbursed")
        need(when >= received, "acknowledgement occurred before the goods or money arrived")
        text(body, "note", "acknowledgement")
        entry = self.append(disb.org, "acknowledgement.recorded", "acknowledgement.recorded", body, step, when)
        entry.asset, entry.parent = a, disb
        disb.acknowledged = a.quantity
        disb.dependants.append(entry)
        return entry

    def usage(self, rid: str, body: dict, step: int) -> Entry:
        fields(body, "usage report", {"disbursement", "asset", "description", "occurred_at"}, {"evidence_sha256"})
        disb = self.recipient_disbursement(rid, body, "usage report")
        need(disb.acknowledged is not None, f"usage reported against {disb.ref()} before acknowledging it")
        a = asset(body["asset"], "usage.asset")
        need(a.key == disb.asset.key, f"usage of {a.label()} against {disb.ref()} of {disb.asset.label()}")
        need(disb.used + a.quantity <= disb.acknowledged,
             f"usage {fmt(a.key, disb.used + a.quantity)} exceeds acknowledged {fmt(a.key, disb.acknowledged)}")
        text(body, "description", "usage report")
        if "evidence_sha256" in body:
            need(isinstance(body["evidence_sha256"], str) and SHA256.fullmatch(body["evidence_sha256"]) is not None,
                 "evidence_sha256 must be 64 lowercase hex digits")
        when = timestamp(body["occurred_at"], "usage.occurred_at")
        ack = next(d for d in disb.dependants if d.kind == "acknowledgement.recorded" and not d.void)
        need(when >= ack.at, "usage reported before the acknowledgement")
        entry = self.append(disb.org, "usage.reported", "usage.reported", body, step, when)
        entry.asset, entry.parent = a, disb
        disb.used += a.quantity
        disb.dependants.append(entry)
        return entry

    def correction(self, org: str, body: dict, step: int) -> Entry:
        fields(body, "correction", {"corrects", "reason", "occurred_at"}, {"replacement"})
        text(body, "reason", "correction")
        when = timestamp(body["occurred_at"], "correction.occurred_at")
        seq = body["corrects"]
        need(isinstance(seq, int) and 1 <= seq <= len(self.logs[org]), f"corrects: {org} has no entry {seq!r}")
        target = self.logs[org][seq - 1]
        need(not target.void, f"corrects: {target.ref()} is already void")
        need(target.live_as not in {"acknowledgement.recorded", "usage.reported", "entry.corrected"},
             f"corrects: {target.ref()} ({target.live_as}) cannot be corrected by the charity")
        live = target.live_dependants()
        need(not live, f"corrects: {target.ref()} still has live dependants "
                       f"{[d.ref() for d in live]}; correct those first")
        need(when >= target.at, "correction occurred before the entry it corrects")
        self.void(target)
        replacement = body.get("replacement")
        if replacement is None:
            return self.append(org, "entry.corrected", "entry.corrected", body, step, when)
        build = {"campaign.opened": self.campaign, "donation.received": self.donation,
                 "allocation.made": self.allocation, "disbursement.made": self.disbursement,
                 "expense.recorded": self.expense}[target.live_as]
        try:
            if target.live_as == "campaign.opened":
                need(isinstance(replacement, dict) and replacement.get("id") == target.body["id"],
                     "a replacement campaign keeps its id")
            entry = build(org, replacement, step, at=when, kind="entry.corrected")
        except Refused as e:
            self.unvoid(target)
            raise Refused(f"replacement for {target.ref()}: {e}") from None
        # The replacement stands in for the corrected entry: later entries reference this seq.
        entry.correction, entry.replaces = body, target
        return entry

    def void(self, entry: Entry) -> None:
        entry.void = True
        for lot, q in entry.draws:
            lot.taken -= q
        if entry.live_as == "disbursement.made":
            entry.parent.taken -= entry.asset.quantity
        if entry.live_as == "donation.received":
            del self.receipts[entry.org][entry.body["receipt_number"]]
            self.used_sources = {k: v for k, v in self.used_sources.items() if v is not entry}
        if entry.live_as == "campaign.opened":
            del self.campaigns[entry.org][entry.body["id"]]

    def unvoid(self, entry: Entry) -> None:
        entry.void = False
        for lot, q in entry.draws:
            lot.taken += q
        if entry.live_as == "disbursement.made":
            entry.parent.taken += entry.asset.quantity
        if entry.live_as == "donation.received":
            self.receipts[entry.org][entry.body["receipt_number"]] = entry
            source = entry.body.get("source_disbursement")
            if source is not None:
                self.used_sources[(source["organization"], source["disbursement"])] = entry
        if entry.live_as == "campaign.opened":
            self.campaigns[entry.org][entry.body["id"]] = entry


# --------------------------------------------------------------------------- replay

ORG_WRITE = re.compile(r"/api/v1/organizations/([^/]+)/(campaigns|donations|allocations|disbursements|expenses|corrections)")
RECIPIENT_WRITE = re.compile(r"/api/v1/recipients/([^/]+)/(acknowledgements|usage_reports)")


def load_keys(doc: dict) -> dict:
    need(isinstance(doc.get("keys"), list) and doc["keys"], "'keys' must be a non-empty list")
    keys = {}
    for i, k in enumerate(doc["keys"]):
        what = f"keys[{i}]"
        need(isinstance(k, dict) and k.get("role") in {"regulator", "charity", "recipient"},
             f"{what}.role must be regulator, charity or recipient")
        extra = {"regulator": "jurisdiction", "charity": "organization", "recipient": "recipient"}[k["role"]]
        fields(k, what, {"key", "role", extra})
        need(isinstance(k["key"], str) and re.fullmatch(r"[A-Za-z0-9._-]{16,}", k["key"]) is not None,
             f"{what}.key must be a token of at least 16 URL-safe characters")
        need(k["key"] not in keys, f"{what}: key {k['key']} appears twice")
        if k["role"] == "regulator":
            need(isinstance(k["jurisdiction"], str) and re.fullmatch(r"\d{0,6}", k["jurisdiction"]) is not None,
                 f"{what}.jurisdiction must be a digit prefix (empty = national)")
        keys[k["key"]] = k
    return keys


def replay(doc: dict) -> Ledger:
    ledger = Ledger(load_keys(doc))
    need(isinstance(doc.get("steps"), list) and doc["steps"], "'steps' must be a non-empty list")
    for i, step in enumerate(doc["steps"], start=1):
        try:
            need(isinstance(step, dict) and set(step) == {"as", "post", "body"},
                 "a step is exactly {as, post, body}")
            path, body = step["post"], step["body"]
            need(isinstance(body, dict), "body must be an object")
            if path == "/api/v1/organizations":
                ledger.register_org(step, body)
            elif path == "/api/v1/recipients":
                ledger.register_recipient(step, body)
            elif m := ORG_WRITE.fullmatch(path):
                org, what = m.groups()
                need(org in ledger.orgs, f"no organisation {org!r} registered yet")
                ledger.authorise(step, "charity", org)
                {"campaigns": ledger.campaign, "donations": ledger.donation, "allocations": ledger.allocation,
                 "disbursements": ledger.disbursement, "expenses": ledger.expense,
                 "corrections": ledger.correction}[what](org, body, i)
            elif m := RECIPIENT_WRITE.fullmatch(path):
                rid, what = m.groups()
                need(rid in ledger.recipients, f"no recipient {rid!r} registered yet")
                ledger.authorise(step, "recipient", rid)
                {"acknowledgements": ledger.acknowledgement, "usage_reports": ledger.usage}[what](rid, body, i)
            else:
                raise Refused(f"unknown write path {path!r}")
        except Refused as e:
            where = step.get("post") if isinstance(step, dict) else "?"
            raise Refused(f"step {i} (POST {where}): {e}") from None
    for k in ledger.keys.values():
        if k["role"] == "charity":
            need(k["organization"] in ledger.orgs, f"key {k['key']} is bound to unregistered {k['organization']}")
        if k["role"] == "recipient":
            need(k["recipient"] in ledger.recipients, f"key {k['key']} is bound to unregistered {k['recipient']}")
    bound = Counter(k.get("organization") or k.get("recipient") for k in ledger.keys.values())
    for oid in ledger.orgs:
        need(bound[oid] >= 1, f"organisation {oid} has no charity key")
    for rid in ledger.recipients:
        need(bound[rid] >= 1, f"recipient {rid} has no recipient key")
    return ledger


# --------------------------------------------------------------------------- story coverage

def coverage(ledger: Ledger) -> list[tuple[str, bool]]:
    entries = [e for log in ledger.logs.values() for e in log]
    live = [e for e in entries if not e.void]
    donations = [e for e in live if e.live_as == "donation.received"]
    allocations = [e for e in live if e.live_as == "allocation.made"]
    disbursements = [e for e in live if e.live_as == "disbursement.made"]
    campaigns = [e for e in live if e.live_as == "campaign.opened"]
    goods = {e.asset.key[1:3] for e in donations if e.asset.key[0] == "goods"}
    currencies = {e.asset.key[1] for e in donations if e.asset.key[0] == "money"}
    specs = {spec for _, spec in goods}
    individuals = [e.body["donor"] for e in donations if e.body["donor"]["kind"] == "individual"]
    regions = {r["region_code"][:2] for r in ledger.recipients.values()}
    return [
        ("at least 3 organisations", len(ledger.orgs) >= 3),
        ("at least 5 recipients, inside and outside Hubei", len(ledger.recipients) >= 5 and "42" in regions and len(regions) > 1),
        ("a welfare institution among the recipients", any(r["kind"] == "welfare_institution" for r in ledger.recipients.values())),
        ("a recipient of kind charity linked to an organisation", any(r.get("organization") for r in ledger.recipients.values())),
        ("money in CNY and USD", {"CNY", "USD"} <= currencies),
        ("N95 (GB 19083-2010), KN95 (GB 2626-2006 KN95) and protective suits (GB 19082-2009)",
         {"GB 19083-2010", "GB 2626-2006 KN95", "GB 19082-2009"} <= specs),
        ("designated and undesignated donations",
         {e.body["restriction"]["kind"] for e in donations} == {"none", "designated"}),
        ("individual donors with contact data", any("contact" in d for d in individuals)),
        ("an individual donor with a public_name", any("public_name" in d for d in individuals)),
        ("an anonymous donor", any(e.body["donor"]["anonymous"] for e in donations)),
        ("a corporate donor", any(e.body["donor"]["kind"] == "organization" for e in donations)),
        ("a donor with related_recipients", any(e.body["donor"].get("related_recipients") for e in donations)),
        ("a pool allocation drawing on two or more donations",
         any(len(d) >= 2 and not a.void for a, d in ledger.pool_allocations)),
        ("a designation_change with a consent reference", any("designation_change" in e.body for e in allocations)),
        ("an acknowledgement short of what was disbursed",
         any(d.acknowledged is not None and d.acknowledged < d.asset.quantity for d in disbursements)),
        ("a disbursement not (yet) acknowledged", any(d.acknowledged is None for d in disbursements)),
        ("usage reports", any(e.kind == "usage.reported" for e in live)),
        ("an expense", any(e.live_as == "expense.recorded" for e in live)),
        ("a correction with a replacement", any(e.correction is not None for e in live)),
        ("a gift passed from one charity to another (source_disbursement)", bool(ledger.transfers)),
        ("an emergency campaign with a record number",
         any(c.body["emergency"] and c.body["record_number"] for c in campaigns)),
        ("a non-emergency campaign", any(not c.body["emergency"] for c in campaigns)),
        ("money left unallocated", any(e.asset.key[0] == "money" and e.remaining() > 0 for e in donations)),
        ("goods left unallocated", any(e.asset.key[0] == "goods" and e.remaining() > 0 for e in donations)),
    ]


# --------------------------------------------------------------------------- summary

def summary(ledger: Ledger, steps: int) -> str:
    entries = [e for log in ledger.logs.values() for e in log]
    lines = [f"{steps} steps: {len(ledger.orgs)} organisations, {len(ledger.recipients)} recipients, "
             f"{len(entries)} log entries ({sum(e.void for e in entries)} voided by corrections)"]
    lines.append("entries per kind:")
    for kind, n in sorted(Counter(e.kind for e in entries).items()):
        lines.append(f"  {kind:26} {n}")
    lines.append("final seq per organisation:")
    for oid, log in ledger.logs.items():
        lines.append(f"  {oid:26} {len(log)}")
    lines.append("balances (received / allocated / expensed / unallocated ; disbursed / acknowledged / used):")
    for oid, log in ledger.logs.items():
        live = [e for e in log if not e.void]
        for key in sorted({e.asset.key for e in live if e.live_as == "donation.received"}):
            def total(kind):
                return sum((e.asset.quantity for e in live if e.live_as == kind and e.asset.key == key), Decimal(0))
            disb = [e for e in live if e.live_as == "disbursement.made" and e.asset.key == key]
            received, allocated, expensed = total("donation.received"), total("allocation.made"), total("expense.recorded")
            unallocated = sum((e.remaining() for e in live if e.live_as == "donation.received" and e.asset.key == key), Decimal(0))
            assert received == allocated + expensed + unallocated, (oid, key)
            lines.append(
                f"  {oid} {asset_label(key)}: {received} / {allocated} / {expensed} / {unallocated} ; "
                f"{sum((d.asset.quantity for d in disb), Decimal(0))} / "
                f"{sum((d.acknowledged or 0 for d in disb), Decimal(0))} / {sum((d.used for d in disb), Decimal(0))}")
    lines.append("pool allocations (oldest-first attribution):")
    for alloc, draws in ledger.pool_allocations:
        if not alloc.void:
            parts = ", ".join(f"{lot.body['receipt_number']} {q}" for lot, q in draws)
            lines.append(f"  {alloc.ref()} -> {alloc.recipient}: {fmt(alloc.asset.key, alloc.asset.quantity)} from {parts}")
    lines.append("transfers between charities:")
    for source, gift in ledger.transfers:
        lines.append(f"  {source.ref()} ({source.recipient}) -> {gift.ref()} {gift.body['receipt_number']}")
    return "\n".join(lines)


def describe(e: Entry) -> str:
    b = e.body
    what = {
        "campaign.opened": lambda: f"campaign {b['id']}",
        "donation.received": lambda: f"{b['receipt_number']} {fmt(e.asset.key, e.asset.quantity)}"
                                     f" ({b['restriction']['kind']})",
        "allocation.made": lambda: f"{'pool' if 'pool' in b else 'donation #%d' % b['donation']} -> {e.recipient}: "
                                   f"{fmt(e.asset.key, e.asset.quantity)}",
        "disbursement.made": lambda: f"allocation #{b['allocation']} -> {e.recipient}: {fmt(e.asset.key, e.asset.quantity)}",
        "expense.recorded": lambda: f"{'pool' if 'pool' in b else 'donation #%d' % b['donation']}: "
                                    f"{fmt(e.asset.key, e.asset.quantity)}",
        "acknowledgement.recorded": lambda: f"#{e.parent.seq} by {e.parent.recipient}: {fmt(e.asset.key, e.asset.quantity)}",
        "usage.reported": lambda: f"#{e.parent.seq} by {e.parent.recipient}: {fmt(e.asset.key, e.asset.quantity)}",
        "entry.corrected": lambda: f"voids #{b['corrects']}",
    }[e.live_as]()
    kind = e.kind if e.correction is None else f"entry.corrected (replaces #{e.replaces.seq} as {e.live_as})"
    return f"  {e.ref():30} {kind:26} {what}{'  [void]' if e.void else ''}"


def main() -> int:
    default = Path(__file__).resolve().parent.parent / "fixtures" / "demo.json"
    parser = argparse.ArgumentParser(description="Check the internal consistency of a Givetrail fixture file.")
    parser.add_argument("path", nargs="?", type=Path, default=default, help=f"fixture file (default {default})")
    parser.add_argument("--entries", action="store_true", help="list every log entry with its seq")
    args = parser.parse_args()
    path = args.path
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as e:
        print(f"check-fixtures: cannot read {path}: {e}", file=sys.stderr)
        return 1
    try:
        need(isinstance(doc, dict) and set(doc) == {"description", "keys", "steps"},
             "top level is exactly {description, keys, steps}")
        need(isinstance(doc["description"], str) and doc["description"].strip() != "", "description must be a non-empty string")
        ledger = replay(doc)
    except Refused as e:
        print(f"check-fixtures: {path}: {e}", file=sys.stderr)
        return 1
    missing = [what for what, ok in coverage(ledger) if not ok]
    print(summary(ledger, len(doc["steps"])))
    if args.entries:
        print("entries:")
        for log in ledger.logs.values():
            print("\n".join(describe(e) for e in log))
    if missing:
        print(f"check-fixtures: {path}: the story lacks: " + "; ".join(missing), file=sys.stderr)
        return 1
    print(f"OK: {path} is consistent and covers all {len(coverage(ledger))} story points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
