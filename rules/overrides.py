"""Overrides: the one syntax for changing parameter values of policy documents (parsed YAML).

Used by what-if scenarios (rules/simulation/scenarios.py, on the shipped documents) and by candidate
policy versions (rules/policy_candidate.py, on a stored version's documents). The documents change
in place; the result goes through the loader's checks like any policy.

A flat mapping of dotted keys to values:
  regions.<code>.digital_stop.valid_from: "YYYY-MM-DD"
      the region's digital stop starts on that date instead: regional periods are re-sliced
      (the period containing the date is split; before it no stop, from it the stop's value).
      A date before the region's first period adds a period from it (no referral requirement).
  regions.<code>.digital_stop.enforcement: none | advisory | enforce
      the enforcement wherever the region's stop is in force (`none` removes the stop).
  regions.<code>.referral_required_specialties: [slug, ...]
      on every period of the region.
  national.telephone_reimbursed: true | false           on every national period
  national.invoice_limit_months: <integer 1-120>        on every national period
  national.digital_tariff_sek.<profession>: "500.00"    on every national period

Each value an override changes either cites `source` (a source id the caller has put in
sources.yaml: the decision behind the change) or, without one, is marked as an assumption (`label`
says whose), so verdicts that rest on it carry the ASSUMED_EFFECTIVE_DATE flag.
"""

import copy
from datetime import date, timedelta

from .calendar import parse_iso_date
from .facts import DIGITAL_STOPS
from .field_kinds import Slug
from .regions import REGIONS
from .vocabulary import PROFESSIONS

KNOWN = (
    "regions.<code>.digital_stop.valid_from, regions.<code>.digital_stop.enforcement, "
    "regions.<code>.referral_required_specialties, national.telephone_reimbursed, "
    "national.invoice_limit_months, national.digital_tariff_sek.<profession>"
)


class OverrideError(ValueError):
    """Overrides that cannot be applied. `errors` maps a key path to messages (as InvalidContact)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items()))


def apply_overrides(
    docs: dict, overrides: dict, where: str, *, label: str, source: str | None = None
) -> None:
    """Apply `overrides` to the documents in place. Raises OverrideError naming every key that
    cannot be applied, keyed `{where}.{key}`."""
    errors = {}
    for key in sorted(overrides, key=_override_order):
        value = overrides[key]
        mark = _Mark(f"{label}: {key} set to {value}.", source)
        try:
            _override(docs, key, value, mark, f"{where}.{key}")
        except OverrideError as exc:
            errors.update(exc.errors)
    if errors:
        raise OverrideError(errors)


class _Mark:
    """How a changed value says where it comes from: the cited source, or an assumption."""

    def __init__(self, note: str, source: str | None):
        self.note = note
        self.source = source

    def set(self, parameter: dict, value) -> None:
        parameter["value"] = value
        self.cite(parameter)

    def cite(self, parameter: dict) -> None:
        if self.source is None:
            parameter["assumption"] = self.note
        else:
            parameter["source"] = self.source
            parameter.pop("assumption", None)


def _override_order(key: str):
    # Move the stop date before setting its enforcement: the re-slice copies the stop's value.
    return (0 if key.endswith(".valid_from") else 1, key)


def _fail(where: str, message: str):
    raise OverrideError({where: [message]})


def _override(docs: dict, key: str, value, mark: _Mark, where: str) -> None:
    parts = key.split(".")
    if parts[0] == "regions" and len(parts) >= 3:
        region_doc = _region_doc(docs, parts[1], where)
        rest = parts[2:]
        if rest == ["digital_stop", "valid_from"]:
            _move_stop(region_doc, _date(value, where), mark, where)
            return
        if rest == ["digital_stop", "enforcement"]:
            if value not in DIGITAL_STOPS:
                _fail(where, f"Expected one of {', '.join(DIGITAL_STOPS)}.")
            stopped = [p for p in region_doc["periods"] if p["parameters"]["digital_stop"]["value"] != "none"]
            if not stopped:
                _fail(where, f"Region {parts[1]} has no digital stop to set the enforcement of.")
            for period in stopped:
                mark.set(period["parameters"]["digital_stop"], value)
            return
        if rest == ["referral_required_specialties"]:
            if not isinstance(value, list):
                _fail(where, "Expected a list of specialty slugs.")
            for i, specialty in enumerate(value):
                try:
                    Slug.check(specialty)
                except ValueError as exc:  # not echoed: it may be what the message refuses
                    _fail(where, f"Item {i}: {exc}")
            for period in region_doc["periods"]:
                mark.set(period["parameters"]["referral_required_specialties"], list(value))
            return
    if parts[0] == "national" and len(parts) >= 2:
        periods = docs["national.yaml"]["periods"]
        if parts[1:] == ["telephone_reimbursed"]:
            if not isinstance(value, bool):
                _fail(where, "Expected true or false.")
            for period in periods:
                mark.set(period["parameters"]["telephone_reimbursed"], value)
            return
        if parts[1:] == ["invoice_limit_months"]:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
                _fail(where, "Expected an integer from 1 to 120.")
            for period in periods:
                mark.set(period["parameters"]["invoice_limit_months"], value)
            return
        if len(parts) == 3 and parts[1] == "digital_tariff_sek":
            if parts[2] not in PROFESSIONS and parts[2] != "other_professions":
                _fail(where, f"Unknown profession (known: {', '.join(PROFESSIONS)}, other_professions).")
            if not isinstance(value, str):
                _fail(where, 'Write the amount as a string such as "500.00".')
            for period in periods:
                param = period["parameters"]["digital_tariff_sek"]
                mark.set(param, dict(param["value"], **{parts[2]: value}))
            return
    _fail(where, f"Unknown override. Known: {KNOWN}.")


def _date(value, where) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        _fail(where, str(exc))


def _region_doc(docs: dict, code: str, where: str) -> dict:
    if code not in REGIONS:
        _fail(where, f"Not a region code in use: {code!r}.")
    for rel, body in docs.items():
        if rel.startswith("regions/") and body.get("home_region") == code:
            return body
    _fail(where, f"This policy has no regional layer for region {code}.")


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _move_stop(region_doc: dict, start: date, mark: _Mark, where: str) -> None:
    """Re-slice the region's periods so that its digital stop is in force from `start` on."""
    periods = sorted(region_doc["periods"], key=lambda p: _day(p["valid_from"]))
    stops = [
        p["parameters"]["digital_stop"] for p in periods if p["parameters"]["digital_stop"]["value"] != "none"
    ]
    if not stops:
        _fail(where, "The region has no digital stop to move.")
    stop = stops[0]
    sliced = []
    first = _day(periods[0]["valid_from"])
    if start < first:
        moved = dict(stop)
        mark.cite(moved)
        sliced.append(
            {
                "id": f"region-{region_doc['home_region']}-from-{start.isoformat()}",
                "valid_from": start,
                "valid_to": first - timedelta(days=1),
                "parameters": {
                    # Not what the overridden decision says: no requirement is assumed before it.
                    "referral_required_specialties": {
                        "value": [],
                        "source": periods[0]["parameters"]["referral_required_specialties"]["source"],
                        "assumption": f"{mark.note} No referral requirement before {first.isoformat()}.",
                    },
                    "digital_stop": moved,
                },
            }
        )
    for period in periods:
        begin = _day(period["valid_from"])
        end = period.get("valid_to")
        end = None if end is None else _day(end)
        if begin < start and (end is None or end >= start):
            before = copy.deepcopy(period)
            before["valid_to"] = start - timedelta(days=1)
            after = copy.deepcopy(period)
            after["id"] = f"{period['id']}-from-{start.isoformat()}"
            after["valid_from"] = start
            pieces = [before, after]
        else:
            pieces = [copy.deepcopy(period)]
        for piece in pieces:
            in_stop = _day(piece["valid_from"]) >= start
            current = piece["parameters"]["digital_stop"]
            wanted = stop["value"] if in_stop else "none"
            if current["value"] != wanted:
                changed = dict(current, value=wanted, source=stop["source"])
                mark.cite(changed)
                piece["parameters"]["digital_stop"] = changed
            sliced.append(piece)
    region_doc["periods"] = sliced
