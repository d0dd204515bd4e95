"""Where verdicts become decisions: decision_id and evaluated_at are assigned here and nowhere
else, and each decision is paired with what the decision log keeps about it (a Pending entry).
While a version runs in shadow, each contact is decided under it here too, next to the verdict
answered, and a disagreement travels with the entry into the decision's transaction."""

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from rules import InvalidContact, Policy, Verdict
from rules.evaluator import decide

from .decision_entry import Disagreement, Pending, pending_from_verdict

# A contact the version in shadow would have refused (a 422): its "decision" and "reason".
SHADOW_REFUSED = ("rejected", "INVALID_CONTACT")


def evaluated_at_now() -> str:
    """UTC, ISO 8601 with a Z, to the microsecond."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_decision_ids(count: int) -> list[str]:
    """`count` time-ordered (version 7, RFC 9562) UUIDs: the current millisecond, then 74 random
    bits. Time-ordered, so the log's unique index on decision_id grows at its end instead of
    taking a random page per decision."""
    millisecond = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    raw = os.urandom(10 * count)
    ids = []
    for start in range(0, 10 * count, 10):
        b = bytearray(millisecond + raw[start : start + 10])
        b[6] = (b[6] & 0x0F) | 0x70  # version 7
        b[8] = (b[8] & 0x3F) | 0x80  # RFC 9562 variant
        h = b.hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids


def entries_for(
    verdicts: Sequence[Verdict],
    received: Sequence[dict],
    evaluated_at: str,
    client: str,
    policy: Policy,
    shadow: Policy | None = None,
) -> list[Pending]:
    """The decisions for `verdicts` (`received[i]`: the contact of `verdicts[i]` as the client sent
    it), each with a new decision_id, all with one evaluated_at (a batch is decided at one moment),
    all decided with `policy` (whose version and contract book each names). Each entry's `verdict`
    is the SPEC section 6 response record as JSON. With `shadow` (the version in shadow), each
    contact is also decided under it: the entry names it, and carries its disagreement."""
    at = datetime.fromisoformat(evaluated_at)
    book = policy.contracts.digest
    shadow_version = shadow.version if shadow is not None else None
    entries = []
    for decision_id, verdict, contact in zip(
        new_decision_ids(len(verdicts)), verdicts, received, strict=True
    ):
        record = {"decision_id": decision_id}
        record.update(verdict.to_dict())
        record["evaluated_at"] = evaluated_at
        disagreement = shadow_disagreement(verdict, shadow, record) if shadow is not None else None
        entries.append(
            pending_from_verdict(verdict, contact, record, at, client, book, shadow_version, disagreement)
        )
    return entries


def shadow_disagreement(verdict: Verdict, shadow: Policy, record: dict) -> Disagreement | None:
    """How `shadow` decides the contact of `verdict` when that differs in decision, reason or
    amount; None when it agrees. The shadow's verdict is written out only on a disagreement, so
    agreeing costs one decide(). `record`: the verdict answered (its decision_id and evaluated_at
    name the shadow's verdict too)."""
    try:
        other = decide(verdict.contact, shadow)
    except InvalidContact as exc:  # e.g. a version whose national policy starts later
        body = {
            "decision_id": record["decision_id"],
            "errors": exc.errors,
            "evaluated_at": record["evaluated_at"],
        }
        return Disagreement(*SHADOW_REFUSED, 0, orjson.dumps(body))
    if (other.decision, other.reason, other.amount_ore) == (
        verdict.decision,
        verdict.reason,
        verdict.amount_ore,
    ):
        return None
    body = {"decision_id": record["decision_id"]}
    body.update(other.to_dict())
    body["evaluated_at"] = record["evaluated_at"]
    return Disagreement(other.decision, other.reason, other.amount_ore, orjson.dumps(body))


def made_now(entry: Pending, answer: bytes) -> bool:
    """Whether the decision log answered `entry` with the decision made now, rather than with the
    one it stored before for an identical submission: only the decision made now can name the
    entry's decision_id, which is new."""
    return entry.decision_id.encode() in answer
