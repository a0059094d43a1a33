"""schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

1. JSON Schema counts `2.0` as the integer 2, and schemathesis sends integers of JSON bodies both
   ways. Givetrail's JSON reader (serde) takes an integer field only as an integer literal and
   answers `2.0` with 400, a difference no schema can state (`"type": "integer"` admits both
   spellings). The whole floats are spelled back as integers before they are sent.

2. `scripts/schemathesis.toml` lets some operations answer schema-valid data with 400, for rules
   no schema can state (a moment not in the future, `to` after `from`, a credit code's check
   character, a proof inside the log's size). The check `refusals_name_stateful_rules` keeps that
   narrow: such a 400 must name only fields of those rules, so a pattern or bound the document
   gets wrong still fails the run.
"""

import schemathesis

# The last part of a field name (`donations[3].occurred_at` → `occurred_at`) whose rule depends
# on the clock, on another field or on the log, or (credit codes) on a checksum.
STATEFUL_FIELDS = {
    "occurred_at",  # not in the future, after the campaign's start
    "received_at",  # not in the future
    "needed_by",  # after now
    "ends_at",  # not before starts_at
    "to",  # after from; inside the log (proofs)
    "from",  # inside the log (proofs)
    "seq",  # inside the log (proofs)
    "tree_size",  # inside the log (proofs)
    "credit_code",  # GB 32100 check character
    "replacement",  # a body of the corrected entry's kind
}

# Bodies that are files (CSV, a workbook): their rows are checked one by one.
FILE_BODIES = {"post_donation_import", "post_bank_statement"}


def _integers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integers(v) for v in value]
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    return value


@schemathesis.hook
def map_body(context, body):
    return _integers(body)


# A field naming another record, refused when that record does not exist (the message says so).
REFERENCES = {"organization": "is not registered"}


def _stateful(error):
    field = error.get("field", "")
    last = field.rsplit(".", 1)[-1].split("[", 1)[0]
    if last in REFERENCES and REFERENCES[last] in error.get("message", ""):
        return True
    return last in STATEFUL_FIELDS or field.split(".", 1)[0] == "replacement"


@schemathesis.check
def refusals_name_stateful_rules(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    if case.operation.definition.raw.get("operationId") in FILE_BODIES:
        return None
    try:
        problem = response.json()
    except ValueError:
        raise AssertionError("400 without a problem document") from None
    errors = problem.get("errors") or []
    if not errors or not all(_stateful(e) for e in errors):
        raise AssertionError(
            f"schema-valid data refused with 400 for a rule the document could state: {problem.get('detail')}"
        )
    return None
