"""Re-adjudication: decide stored decisions again under a candidate policy and list what changes.

Input records have the shape the decision log exports (GET /v1/decisions items, or any JSON Lines
of {contact, verdict}): `contact` as received and `verdict` as answered (decision, reason,
amount_sek). The decision log stores patient.age as its age group (SPEC section 8); age never
affects a decision, so an age given as a group label is set aside before the contact is validated.

Like a simulation, it judges contacts as of calendar.LAST_DAY: a stored decision is not refused
for a date after the day of the readjudication (its dates were checked when it was decided).

A contact decided more than once (same home_region and contact_id, e.g. corrected and resent)
counts once, with its latest decision (latest evaluated_at, else latest in the input): money is
not counted twice. Output: the changed verdicts (first `listed`, all counted) and, per home region,
the number of decisions, how many changed and the money before, after and the difference.
"""

from collections.abc import Iterable

from ..calendar import LAST_DAY
from ..errors import InvalidContact
from ..evaluator import decide
from ..money import format_sek, parse_sek
from ..policy import Policy
from ..validation import parse_contact
from .simulate import signed_sek

LISTED = 1000


def decidable(contact):
    """The stored contact as a contact the validator accepts (age group label set aside). Replay
    (rules/replay.py) reads stored contacts the same way."""
    if not isinstance(contact, dict):
        return contact
    patient = contact.get("patient")
    if isinstance(patient, dict) and isinstance(patient.get("age"), str):
        patient = {k: v for k, v in patient.items() if k != "age"}
        contact = dict(contact, patient=patient)
    return contact


def _stored(verdict) -> tuple[str, str, int]:
    if not isinstance(verdict, dict):
        raise InvalidContact({"verdict": ["Missing or not an object: the stored verdict is needed."]})
    try:
        decision, reason = verdict["decision"], verdict["reason"]
        amount = parse_sek(verdict["amount_sek"])
    except (KeyError, ValueError) as exc:
        raise InvalidContact({"verdict": [f"Needs decision, reason and amount_sek ({exc})."]}) from None
    return decision, reason, amount


def readjudicate(records: Iterable[dict], policy: Policy, listed: int = LISTED) -> dict:
    latest: dict[tuple[str, str], tuple] = {}
    rejected, rejected_count, superseded = [], 0, 0
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                detail = f" ({record})" if isinstance(record, str) else ""
                raise InvalidContact({"_record": [f"Expected an object with contact and verdict{detail}."]})
            before = _stored(record.get("verdict"))
            contact = parse_contact(decidable(record.get("contact")), LAST_DAY)
            verdict = decide(contact, policy)
        except InvalidContact as exc:
            rejected_count += 1
            if len(rejected) < listed:
                rejected.append({"index": index, "errors": exc.errors})
            continue
        key = (contact.home_region, contact.contact_id)
        at = record.get("evaluated_at") or ""
        entry = (
            at,
            index,
            record.get("decision_id"),
            contact,
            before,
            (verdict.decision, verdict.reason, verdict.amount_ore),
        )
        held = latest.get(key)
        if held is not None:
            superseded += 1
            if held[0] > at:  # the held decision is the later one
                continue
        latest[key] = entry
    regions: dict[str, list[int]] = {}
    changed, changed_count = [], 0
    for _, index, decision_id, contact, before, after in sorted(latest.values(), key=lambda e: e[1]):
        cell = regions.setdefault(contact.home_region, [0, 0, 0, 0])
        cell[0] += 1
        cell[2] += before[2]
        cell[3] += after[2]
        if before != after:
            cell[1] += 1
            changed_count += 1
            if len(changed) < listed:
                changed.append(
                    {
                        "index": index,
                        "decision_id": decision_id,
                        "contact_id": contact.contact_id,
                        "home_region": contact.home_region,
                        "contact_date": contact.contact_date.isoformat(),
                        "before": {
                            "decision": before[0],
                            "reason": before[1],
                            "amount_sek": format_sek(before[2]),
                        },
                        "after": {
                            "decision": after[0],
                            "reason": after[1],
                            "amount_sek": format_sek(after[2]),
                        },
                        "amount_delta_sek": signed_sek(after[2] - before[2]),
                    }
                )
    return {
        "policy": policy.name,
        "decisions": len(latest),
        "superseded": superseded,
        "changed": {"count": changed_count, "items": changed},
        "by_home_region": {
            region: {
                "decisions": n,
                "changed": k,
                "amount_before_sek": format_sek(a),
                "amount_after_sek": format_sek(b),
                "amount_delta_sek": signed_sek(b - a),
            }
            for region, (n, k, a, b) in sorted(regions.items())
        },
        "rejected": {"count": rejected_count, "items": rejected},
    }
