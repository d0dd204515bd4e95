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

parse_stored_contact and Tally are shared with the impact of a policy version on the stored log
(impact.py), which reads the log itself, newest per contact, and so needs no memory per contact.
"""

from collections.abc import Iterable

from ..calendar import LAST_DAY
from ..contact import Contact
from ..errors import InvalidContact
from ..evaluator import decide
from ..money import format_sek, parse_sek
from ..policy import Policy
from ..validation import parse_contact
from .simulate import AGE_LABEL, UNKNOWN, _dimension_order, signed_sek

LISTED = 1000
Brief = tuple[str, str, int]  # (decision, reason, amount_ore) of a verdict


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


def parse_stored_contact(data) -> tuple[Contact, str]:
    """The stored contact validated, and its patient's age group: the log keeps the group label in
    patient.age (SPEC section 8), which the validator (ages only) does not take, so it is set aside.
    Raises InvalidContact."""
    patient = data.get("patient") if isinstance(data, dict) else None
    group = patient["age"] if isinstance(patient, dict) and isinstance(patient.get("age"), str) else UNKNOWN
    contact = parse_contact(decidable(data), LAST_DAY)
    if contact.patient is not None and contact.patient.age is not None:
        group = AGE_LABEL[contact.patient.age]
    return contact, group


class Tally:
    """Contacts decided again, summed up: one counter cell per (home region, age group, sex, month,
    verdict before, verdict after, whether it changed) holding [contacts, öre before, öre after],
    so memory is bounded by the cells (thousands), never by the contacts. A verdict changed when
    its decision, reason or amount did."""

    DIMENSIONS = ("home_region", "age_group", "sex", "month")
    BEFORE, AFTER, CHANGED = 4, 6, 8  # where a cell's key holds (decision, reason) before, after

    def __init__(self):
        self.cells: dict[tuple, list[int]] = {}
        self._months: dict = {}

    def add(self, contact: Contact, age_group: str, before: Brief, after: Brief) -> bool:
        """Count one contact; whether its verdict changed."""
        patient = contact.patient
        sex = UNKNOWN if patient is None or patient.sex is None else patient.sex
        day = contact.contact_date
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = f"{day.year:04d}-{day.month:02d}"
        changed = before != after
        key = (contact.home_region, age_group, sex, month, *before[:2], *after[:2], changed)
        cell = self.cells.get(key)
        if cell is None:
            self.cells[key] = [1, before[2], after[2]]
        else:
            cell[0] += 1
            cell[1] += before[2]
            cell[2] += after[2]
        return changed

    def by(self, dimension: str) -> dict[str, dict]:
        """Per value of the dimension: decisions, changed, and the money before, after and the
        difference (exact: öre summed, then written as SEK)."""
        at = self.DIMENSIONS.index(dimension)
        sums: dict[str, list[int]] = {}
        for key, (n, before, after) in self.cells.items():
            cell = sums.setdefault(key[at], [0, 0, 0, 0])
            cell[0] += n
            cell[1] += n if key[-1] else 0
            cell[2] += before
            cell[3] += after
        return {value: _sums(*cell) for value, cell in sorted(sums.items(), key=_dimension_order(dimension))}

    def total(self) -> dict:
        n = changed = before = after = 0
        for key, cell in self.cells.items():
            n += cell[0]
            changed += cell[0] if key[-1] else 0
            before += cell[1]
            after += cell[2]
        return _sums(n, changed, before, after)

    def changes(self) -> list[dict]:
        """The changed verdicts grouped by (reason before, reason after), largest money change first:
        the shape of a simulation's `changed`."""
        groups: dict[tuple[str, str], list[int]] = {}
        for key, (n, before, after) in self.cells.items():
            if key[-1]:
                cell = groups.setdefault((key[self.BEFORE + 1], key[self.AFTER + 1]), [0, 0])
                cell[0] += n
                cell[1] += after - before
        ordered = sorted(groups.items(), key=lambda item: (-abs(item[1][1]), item[0]))
        return [
            {"from": before, "to": after, "count": n, "amount_sek": signed_sek(amount)}
            for (before, after), (n, amount) in ordered
        ]


def _sums(n: int, changed: int, before: int, after: int) -> dict:
    return {
        "decisions": n,
        "changed": changed,
        "amount_before_sek": format_sek(before),
        "amount_after_sek": format_sek(after),
        "amount_delta_sek": signed_sek(after - before),
    }


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
            contact, age_group = parse_stored_contact(record.get("contact"))
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
            age_group,
            before,
            (verdict.decision, verdict.reason, verdict.amount_ore),
        )
        held = latest.get(key)
        if held is not None:
            superseded += 1
            if held[0] > at:  # the held decision is the later one
                continue
        latest[key] = entry
    tally = Tally()
    changed, changed_count = [], 0
    for _, index, decision_id, contact, age_group, before, after in sorted(
        latest.values(), key=lambda e: e[1]
    ):
        if tally.add(contact, age_group, before, after):
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
        "by_home_region": tally.by("home_region"),
        "rejected": {"count": rejected_count, "items": rejected},
    }
