"""Replay: decide a stored decision again under the policy version and the contract book it was
decided with, judged as of the day it was decided, and say whether the verdict comes out the same.

The input is a decision as the log exports it (a GET /v1/decisions item): the contact as stored
(patient age reduced to its group, set aside as re-adjudication does: age never decides), the
verdict as answered, `evaluated_at`, and `policy.version` and `policy.contract_book`, the digests
the caller looks the policy up by (the API in its storage, `python -m rules replay` in the database:
rules/stored_policies.py). One function for both, so the API and the command line cannot disagree.

It runs today's engine code on the stored policy files: a difference means the engine, or what was
stored, changed since, which is what a replay is there to show.
"""

import re
from datetime import date, datetime

import orjson

from .calendar import stockholm_date
from .errors import InvalidContact
from .evaluator import decide
from .json_numbers import as_float
from .policy import Policy
from .simulation.readjudicate import decidable
from .validation import parse_contact

# Members of a stored verdict that the service adds when it issues a decision, not the rules: a
# replay issues nothing, so they are not compared (and the replayed verdict has none).
ISSUED = ("decision_id", "evaluated_at", "supersedes")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_ABSENT = object()


class NotReplayable(ValueError):
    """The decision cannot be replayed (decided before versions were kept, not a decision record,
    its version or contract book not found); the message says why."""


def decided_with(record) -> tuple[str, str]:
    """(policy version digest, contract book digest) of an exported decision; NotReplayable when the
    record is not a decision or does not name them."""
    if not isinstance(record, dict) or not all(
        isinstance(record.get(key), want)
        for key, want in (("verdict", dict), ("contact", dict), ("evaluated_at", str), ("policy", dict))
    ):
        raise NotReplayable(
            "Not a decision record: expected an object with contact, verdict, evaluated_at and "
            "policy, as GET /v1/decisions lists them."
        )
    policy = record["policy"]
    if "version" not in policy or "contract_book" not in policy:
        raise NotReplayable(
            "The record does not name its policy.version and policy.contract_book: export it again "
            "from GET /v1/decisions."
        )
    decided_on(record)
    version, book = policy["version"], policy["contract_book"]
    if not version or not book:
        raise NotReplayable(
            "Decided before the service kept its policy versions and contract books (migration "
            "0009): the policy it was decided with is not known, so it cannot be replayed."
        )
    if not all(isinstance(digest, str) and _DIGEST.fullmatch(digest) for digest in (version, book)):
        raise NotReplayable(
            "policy.version and policy.contract_book are not digests (64 hex digits): export the "
            "decision again from GET /v1/decisions."
        )
    return version, book


def decided_on(record: dict) -> date:
    """The date in Stockholm of the decision's evaluated_at: the day it was judged on."""
    try:
        at = datetime.fromisoformat(record["evaluated_at"])
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise NotReplayable(f"evaluated_at is not a date-time with a zone: {record['evaluated_at']!r}.")
    return stockholm_date(at.timestamp())


def replay(record: dict, policy: Policy) -> dict:
    """`policy`: the version the record names, with its contract book. Returns {identical, original
    (the stored verdict), replayed (the verdict now, or {rejected, errors} if the contact is refused
    now), differences ([{path, original, replayed}], a side without the member has no key)}."""
    decided_with(record)
    today = decided_on(record)
    try:
        verdict = decide(parse_contact(decidable(record["contact"]), today), policy)
        replayed = orjson.loads(orjson.dumps(verdict.to_dict()))
    except InvalidContact as exc:
        replayed = {"rejected": True, "errors": exc.errors}
    original = record["verdict"]
    compared = {key: value for key, value in original.items() if key not in ISSUED}
    differences = list(_differences(compared, replayed, ""))
    return {
        "identical": not differences,
        "original": original,
        "replayed": replayed,
        "differences": differences,
    }


def to_json(result: dict) -> bytes:
    """A replay's result as JSON (a record read by rules/json_numbers.py may hold its floats)."""
    return orjson.dumps(result, default=as_float)


def _differences(original, replayed, path: str):
    if isinstance(original, dict) and isinstance(replayed, dict):
        for key in [*original, *(key for key in replayed if key not in original)]:
            yield from _differences(
                original.get(key, _ABSENT), replayed.get(key, _ABSENT), f"{path}.{key}" if path else key
            )
    elif isinstance(original, list) and isinstance(replayed, list):
        for i in range(max(len(original), len(replayed))):
            yield from _differences(
                original[i] if i < len(original) else _ABSENT,
                replayed[i] if i < len(replayed) else _ABSENT,
                f"{path}[{i}]",
            )
    elif original != replayed or isinstance(original, bool) != isinstance(replayed, bool):
        difference = {"path": path}
        if original is not _ABSENT:
            difference["original"] = original
        if replayed is not _ABSENT:
            difference["replayed"] = replayed
        yield difference
