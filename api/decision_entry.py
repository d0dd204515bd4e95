"""What the decision log keeps about one verdict, built before any database is touched.

Pure (no database, no Flask): built where verdicts are decided (api/issuing.py), stored by
api/storage/decision_log.py.
"""

import hashlib
from datetime import date, datetime
from typing import NamedTuple

import orjson

from rules.json_numbers import as_float
from rules.vocabulary import age_group


def stored_contact(contact: dict) -> dict:
    """The contact as received, with patient.age reduced to its age group (SPEC section 8)."""
    patient = contact.get("patient")
    if (
        isinstance(patient, dict)
        and isinstance(patient.get("age"), int)
        and not isinstance(patient.get("age"), bool)
    ):
        patient = dict(patient)
        patient["age"] = age_group(patient["age"])
        contact = dict(contact)
        contact["patient"] = patient
    return contact


def canonical(data) -> bytes:
    """A number read with a fraction (rules/json_numbers.py) is stored as the float it is: an amount
    that passed the check has at most 2 decimals, so the float says it exactly."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=as_float)


def stored_contact_text(contact: dict) -> bytes:
    """The canonical JSON of the contact as received, age reduced: what is stored and hashed."""
    return canonical(stored_contact(contact))


def idempotency_key(contact_id: str, home_region: str, contact_text: bytes) -> str:
    """sha256 over (contact_id, home_region, canonical JSON of the stored contact).

    The stored form (age group, not age) is hashed so the key cannot be used to recover the exact
    age; two submissions differing only in the age within one group count as identical, which is
    harmless because age never affects a decision."""
    keyed = b"%s\x00%s\x00%s" % (contact_id.encode(), home_region.encode(), contact_text)
    return hashlib.sha256(keyed).hexdigest()


class Disagreement(NamedTuple):
    """How the version in shadow decided a live contact otherwise: its decision, reason, amount and
    the verdict it would have answered (JSON). Decision "rejected" (reason INVALID_CONTACT): it would
    have refused the contact, the verdict then holds its `errors`."""

    decision: str
    reason: str
    amount_ore: int
    verdict: bytes


class Pending(NamedTuple):
    """One verdict about to be issued, with what the log keeps about it (a NamedTuple: one is built
    per verdict, and it is cheaper to build than a dataclass)."""

    decision_id: str
    contact_id: str
    home_region: str
    care_region: str
    contact_date: date
    decision: str
    reason: str
    amount_ore: int
    contact_text: bytes  # stored_contact_text(the contact as received)
    verdict: bytes  # the response body as JSON; `"supersedes"` is appended when it applies
    policy_digest: str
    layers: str  # JSON
    evaluated_at: datetime
    client: str
    idem_key: str
    policy_version: str | None  # the stored version decided with (None: a policy not from files)
    contract_book: str  # the digest of the contract book decided with
    shadow_version: str | None = None  # the version in shadow when it was decided, if one was
    disagreement: Disagreement | None = None  # the shadow's other outcome (None: agreed, or no shadow)


def pending_from_verdict(
    verdict,
    received: dict,
    body: dict,
    evaluated_at: datetime,
    client: str,
    contract_book: str,
    shadow_version: str | None = None,
    disagreement: Disagreement | None = None,
) -> Pending:
    """A Pending entry for a rules.Verdict, the contact as received and the response body."""
    c = verdict.contact
    policy = body["policy"]
    contact_text = stored_contact_text(received)
    return Pending(
        body["decision_id"],
        c.contact_id,
        c.home_region,
        c.care_region,
        c.contact_date,
        verdict.rule.decision,
        verdict.rule.reason,
        verdict.amount_ore,
        contact_text,
        orjson.dumps(body),
        policy["digest"],
        orjson.dumps(policy["layers"]).decode(),
        evaluated_at,
        client,
        idempotency_key(c.contact_id, c.home_region, contact_text),
        policy.get("version"),
        contract_book,
        shadow_version,
        disagreement,
    )


def with_supersedes(verdict: bytes, previous: str) -> bytes:
    """The verdict JSON with `"supersedes": previous` as its last member, as orjson would write the
    dict with that key added last (the verdict is serialised once, before the log is consulted)."""
    if not verdict.endswith(b"}"):
        raise ValueError("not a JSON object")
    return b'%s,"supersedes":%s}' % (verdict[:-1], orjson.dumps(previous))
