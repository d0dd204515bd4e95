"""Scenarios: named policy sets as DATA, each an overlay on the shipped policy documents.

A scenario is a YAML file under rules/scenarios/ (or, in a request, an object
{"name", "base", "overrides"}). Its overlay is applied to the raw policy documents and the result
goes through rules.loader.load_policy_documents, so a scenario policy passes exactly the checks
the shipped policy does (unreachable rules, gaps, unknown sources...).

Overlay keys, applied in this order (base first):
  base            another scenario to start from (default: the shipped policy, `in_force`)
  drop_documents  document path prefixes to remove, e.g. ["regions/"] (no regional layer)
  catalogue       reasons/flags to add to catalogue.yaml (a new reason code needs its texts)
  insert_rules    [{before: REASON | after: REASON, rule: {...eligibility rule...}}]
  overrides       parameter what-ifs, the same syntax a request uses (below)

Override syntax: a flat mapping of dotted keys to values.
  regions.<code>.digital_stop.valid_from: "YYYY-MM-DD"
      the region's digital stop starts on that date instead: regional periods are re-sliced
      (the period containing the date is split; before it no stop, from it the stop's value).
      A date before the region's first period adds a period from it (no referral requirement).
  regions.<code>.digital_stop.enforcement: none | advisory | enforce
      the enforcement wherever the region's stop is in force (`none` removes the stop).
  regions.<code>.referral_required_specialties: [slug, ...]
      on every period of the region.
  national.telephone_reimbursed: true | false           on every national period
  national.invoice_limit_months: <positive integer>     on every national period
  national.digital_tariff_sek.<profession>: "500.00"    on every national period
Every value an override changes is marked as an assumption naming the scenario, so verdicts that
rest on it carry the ASSUMED_EFFECTIVE_DATE flag. A bad key or value raises ScenarioError.
"""

import copy
import json
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from ..calendar import parse_iso_date
from ..errors import PolicyError
from ..facts import DIGITAL_STOPS
from ..identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from ..loader import POLICY_DIR, load_policy_documents, read_policy_documents
from ..policy import Policy
from ..regions import REGIONS
from ..text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from ..vocabulary import PROFESSIONS

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE = "in_force"
OVERLAY_KEYS = {
    "name",
    "title",
    "description",
    "base",
    "drop_documents",
    "catalogue",
    "insert_rules",
    "overrides",
}
MAX_BASE_DEPTH = 8


class ScenarioError(ValueError):
    """A scenario that cannot be built. `errors` maps a key path to messages (as InvalidContact)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items()))


@lru_cache(maxsize=1)
def _shipped_documents() -> dict:
    return read_policy_documents(POLICY_DIR)


@lru_cache(maxsize=1)
def named_scenarios() -> dict[str, dict]:
    """The scenario files under rules/scenarios/, by name."""
    out = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(body, dict) or body.get("name") != path.stem:
            raise ScenarioError(
                {f"scenarios/{path.name}": ["expected a mapping whose name is the file name"]}
            )
        unknown = set(body) - OVERLAY_KEYS
        if unknown:
            raise ScenarioError({f"scenarios/{path.name}.{sorted(unknown)[0]}": ["Unknown key."]})
        out[body["name"]] = body
    return out


def scenario_title(name: str) -> str:
    body = named_scenarios().get(name)
    return (body or {}).get("title", {}).get("en", name)


def normalise(spec, where: str = "scenario") -> dict:
    """A request's scenario (a name, or {"name", "base", "overrides"}) as an overlay mapping."""
    if isinstance(spec, str):
        if spec not in named_scenarios():
            raise ScenarioError(
                {where: [f"Unknown scenario {spec!r} (known: {', '.join(named_scenarios())})."]}
            )
        return named_scenarios()[spec]
    if not isinstance(spec, dict):
        raise ScenarioError({where: ["Expected a scenario name or an object {name, base, overrides}."]})
    unknown = set(spec) - {"name", "base", "overrides", "title"}
    if unknown:
        raise ScenarioError({f"{where}.{sorted(unknown)[0]}": ["Unknown field."]})
    name = spec.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise ScenarioError({f"{where}.name": ["Required: a name of 1-64 characters."]})
    for key in ("name", "title"):
        if isinstance(spec.get(key), str) and has_control_characters(spec[key]):
            raise ScenarioError({f"{where}.{key}": [CONTROL_CHARACTERS_MESSAGE]})
        if isinstance(spec.get(key), str) and holds_identity_number(spec[key]):
            raise ScenarioError({f"{where}.{key}": [IDENTITY_NUMBER_MESSAGE]})
    base = spec.get("base", BASELINE)
    if not isinstance(base, str) or base not in named_scenarios():
        raise ScenarioError(
            {f"{where}.base": [f"Unknown scenario {base!r} (known: {', '.join(named_scenarios())})."]}
        )
    overrides = spec.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ScenarioError({f"{where}.overrides": ["Expected an object of dotted keys to values."]})
    title = spec.get("title", name)
    return {"name": name, "title": {"en": str(title), "sv": str(title)}, "base": base, "overrides": overrides}


def build_policy(spec, where: str = "scenario") -> Policy:
    """The compiled Policy of a scenario (cached: building one compiles and checks the rules)."""
    overlay = normalise(spec, where)
    return _build_cached(json.dumps(overlay, sort_keys=True, default=str), where)


def scenario_documents(spec, where: str = "scenario") -> dict:
    """The policy documents of a scenario: the shipped ones with its overlay applied."""
    return _documents(normalise(spec, where), where)


def _documents(overlay: dict, where: str) -> dict:
    docs = copy.deepcopy(_shipped_documents())
    _apply(docs, overlay, where, depth=0)
    return docs


@lru_cache(maxsize=32)
def _build_cached(key: str, where: str) -> Policy:
    overlay = json.loads(key)
    docs = _documents(overlay, where)
    try:
        return load_policy_documents(docs, overlay["name"], f"scenario {overlay['name']}")
    except PolicyError as exc:
        raise ScenarioError(
            {where: [f"The scenario policy does not pass the policy checks: {exc}"]}
        ) from None


def _apply(docs: dict, overlay: dict, where: str, depth: int) -> None:
    base = overlay.get("base")
    if base is not None and base != overlay.get("name"):
        if depth >= MAX_BASE_DEPTH or base not in named_scenarios():
            raise ScenarioError({f"{where}.base": [f"Unknown or circular base scenario {base!r}."]})
        _apply(docs, named_scenarios()[base], where, depth + 1)
    name = overlay["name"]
    for prefix in overlay.get("drop_documents") or ():
        for rel in [rel for rel in docs if rel.startswith(prefix)]:
            del docs[rel]
    for section, entries in (overlay.get("catalogue") or {}).items():
        target = docs["catalogue.yaml"].setdefault(section, {})
        for code, body in entries.items():
            if code in target:
                raise ScenarioError({f"{where}.catalogue.{section}.{code}": ["Already in the catalogue."]})
            target[code] = body
    for i, insert in enumerate(overlay.get("insert_rules") or ()):
        _insert_rule(docs["eligibility.yaml"]["rules"], insert, f"{where}.insert_rules[{i}]")
    overrides = overlay.get("overrides") or {}
    for key in sorted(overrides, key=_override_order):
        _override(docs, name, key, overrides[key], f"{where}.overrides.{key}")


def _insert_rule(rules: list, insert: dict, where: str) -> None:
    anchor = insert.get("before") or insert.get("after")
    reasons = [rule.get("reason") for rule in rules]
    if anchor not in reasons:
        raise ScenarioError({where: [f"No rule {anchor!r} to insert before or after."]})
    index = reasons.index(anchor) + (0 if "before" in insert else 1)
    rules.insert(index, insert["rule"])


def _override_order(key: str):
    # Move the stop date before setting its enforcement: the re-slice copies the stop's value.
    return (0 if key.endswith(".valid_from") else 1, key)


def _override(docs: dict, name: str, key: str, value, where: str) -> None:
    parts = key.split(".")
    note = f"Scenario {name}: {key} set to {value} (what-if, not a decision)."
    if parts[0] == "regions" and len(parts) >= 3:
        region_doc = _region_doc(docs, parts[1], where)
        rest = parts[2:]
        if rest == ["digital_stop", "valid_from"]:
            _move_stop(region_doc, _date(value, where), note, where)
            return
        if rest == ["digital_stop", "enforcement"]:
            if value not in DIGITAL_STOPS:
                raise ScenarioError({where: [f"Expected one of {', '.join(DIGITAL_STOPS)}."]})
            stopped = [p for p in region_doc["periods"] if p["parameters"]["digital_stop"]["value"] != "none"]
            if not stopped:
                raise ScenarioError(
                    {where: [f"Region {parts[1]} has no digital stop to set the enforcement of."]}
                )
            for period in stopped:
                _set(period["parameters"]["digital_stop"], value, note)
            return
        if rest == ["referral_required_specialties"]:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ScenarioError({where: ["Expected a list of specialty slugs."]})
            for period in region_doc["periods"]:
                _set(period["parameters"]["referral_required_specialties"], list(value), note)
            return
    if parts[0] == "national" and len(parts) >= 2:
        periods = docs["national.yaml"]["periods"]
        if parts[1:] == ["telephone_reimbursed"]:
            if not isinstance(value, bool):
                raise ScenarioError({where: ["Expected true or false."]})
            for period in periods:
                _set(period["parameters"]["telephone_reimbursed"], value, note)
            return
        if parts[1:] == ["invoice_limit_months"]:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
                raise ScenarioError({where: ["Expected an integer from 1 to 120."]})
            for period in periods:
                _set(period["parameters"]["invoice_limit_months"], value, note)
            return
        if len(parts) == 3 and parts[1] == "digital_tariff_sek":
            if parts[2] not in PROFESSIONS and parts[2] != "other_professions":
                raise ScenarioError(
                    {where: [f"Unknown profession (known: {', '.join(PROFESSIONS)}, other_professions)."]}
                )
            if not isinstance(value, str):
                raise ScenarioError({where: ['Write the amount as a string such as "500.00".']})
            for period in periods:
                param = period["parameters"]["digital_tariff_sek"]
                param["value"] = dict(param["value"], **{parts[2]: value})
                param["assumption"] = note
            return
    raise ScenarioError(
        {
            where: [
                "Unknown override. Known: regions.<code>.digital_stop.valid_from, "
                "regions.<code>.digital_stop.enforcement, regions.<code>.referral_required_specialties, "
                "national.telephone_reimbursed, national.invoice_limit_months, "
                "national.digital_tariff_sek.<profession>."
            ]
        }
    )


def _set(parameter: dict, value, note: str) -> None:
    parameter["value"] = value
    parameter["assumption"] = note


def _date(value, where) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        raise ScenarioError({where: [str(exc)]}) from None


def _region_doc(docs: dict, code: str, where: str) -> dict:
    if code not in REGIONS:
        raise ScenarioError({where: [f"Not a region code in use: {code!r}."]})
    for rel, body in docs.items():
        if rel.startswith("regions/") and body.get("home_region") == code:
            return body
    raise ScenarioError({where: [f"This scenario has no regional layer for region {code}."]})


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _move_stop(region_doc: dict, start: date, note: str, where: str) -> None:
    """Re-slice the region's periods so that its digital stop is in force from `start` on."""
    periods = sorted(region_doc["periods"], key=lambda p: _day(p["valid_from"]))
    stops = [
        p["parameters"]["digital_stop"] for p in periods if p["parameters"]["digital_stop"]["value"] != "none"
    ]
    if not stops:
        raise ScenarioError({where: ["The region has no digital stop to move."]})
    stop = stops[0]
    sliced = []
    first = _day(periods[0]["valid_from"])
    if start < first:
        sliced.append(
            {
                "id": f"region-{region_doc['home_region']}-scenario-{start.isoformat()}",
                "valid_from": start,
                "valid_to": first - timedelta(days=1),
                "parameters": {
                    "referral_required_specialties": {
                        "value": [],
                        "source": periods[0]["parameters"]["referral_required_specialties"]["source"],
                        "assumption": f"{note} No referral requirement before {first.isoformat()}.",
                    },
                    "digital_stop": dict(stop, assumption=note),
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
            after["id"] = f"{period['id']}-scenario-{start.isoformat()}"
            after["valid_from"] = start
            pieces = [before, after]
        else:
            pieces = [copy.deepcopy(period)]
        for piece in pieces:
            in_stop = _day(piece["valid_from"]) >= start
            current = piece["parameters"]["digital_stop"]
            wanted = stop["value"] if in_stop else "none"
            if current["value"] != wanted:
                piece["parameters"]["digital_stop"] = dict(
                    current, value=wanted, source=stop["source"], assumption=note
                )
            sliced.append(piece)
    region_doc["periods"] = sliced
