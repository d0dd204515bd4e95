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
  overrides       parameter what-ifs, the same syntax a request uses (rules/overrides.py, which
                  candidate policy versions use too)

Every value an override changes is marked as an assumption naming the scenario, so verdicts that
rest on it carry the ASSUMED_EFFECTIVE_DATE flag. A bad key or value raises ScenarioError.
"""

import copy
import json
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import PolicyError
from ..identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from ..loader import POLICY_DIR, load_policy_documents, parse_policy_files, read_policy_documents
from ..overrides import OverrideError, apply_overrides
from ..policy import Policy
from ..text import CONTROL_CHARACTERS_MESSAGE, has_control_characters

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


def build_policy(spec, where: str = "scenario", base: Policy | None = None) -> Policy:
    """The compiled Policy of a scenario (cached: building one compiles and checks the rules).
    `base`: the policy `in_force` stands for, one loaded from files (the service passes the version
    in force); None: the shipped files. Its contracts are not carried over: add them with
    with_contracts."""
    overlay = normalise(spec, where)
    version = ""
    if base is not None:
        version = base.version
        if version not in _BASES:
            if len(_BASES) >= _BASES_KEPT:
                _BASES.pop(next(iter(_BASES)))
                _base_documents.cache_clear()
            _BASES[version] = base.files
    return _build_cached(json.dumps(overlay, sort_keys=True, default=str), where, version)


def scenario_documents(spec, where: str = "scenario") -> dict:
    """The policy documents of a scenario: the shipped ones with its overlay applied."""
    return _documents(normalise(spec, where), where, "")


# The files of each base policy a scenario was built on (versions are immutable: a digest says all).
_BASES: dict[str, dict] = {}
_BASES_KEPT = 4


def _documents(overlay: dict, where: str, version: str) -> dict:
    docs = copy.deepcopy(_shipped_documents() if not version else _base_documents(version))
    _apply(docs, overlay, where, depth=0)
    return docs


@lru_cache(maxsize=4)
def _base_documents(version: str) -> dict:
    return parse_policy_files(dict(_BASES[version]), f"version {version[:12]}")


@lru_cache(maxsize=32)
def _build_cached(key: str, where: str, version: str) -> Policy:
    overlay = json.loads(key)
    docs = _documents(overlay, where, version)
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
    label = f"Scenario {name} (a what-if, not a decision)"
    try:
        apply_overrides(docs, overlay.get("overrides") or {}, f"{where}.overrides", label=label)
    except OverrideError as exc:
        raise ScenarioError(exc.errors) from None


def _insert_rule(rules: list, insert: dict, where: str) -> None:
    anchor = insert.get("before") or insert.get("after")
    reasons = [rule.get("reason") for rule in rules]
    if anchor not in reasons:
        raise ScenarioError({where: [f"No rule {anchor!r} to insert before or after."]})
    index = reasons.index(anchor) + (0 if "before" in insert else 1)
    rules.insert(index, insert["rule"])
