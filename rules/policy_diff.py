"""What changes from one policy to another, in the terms a reviewer reads: parameters, periods,
rules, texts and sources. The API (GET /v1/policy-versions/{digest}/diff) and the command line
(`python -m rules diff`) both answer with diff(old, new) on two compiled policies.

Periods are matched by layer, home region and id; rules by reason code (unique in a policy);
catalogue texts by section, code and key. Every value is given with the source it cites, as
{"id", "ref", "url"}, read from the policy it belongs to.
"""

from datetime import date

from .facts import FACTS
from .policy import Period, Policy, Rule


def diff(old: Policy, new: Policy) -> dict:
    """The changes from `old` to `new` (JSON-ready). Every list is empty when the two decide alike
    and say the same."""
    parameters, periods = _periods(old, new)
    result = {
        "from": old.version or old.name,
        "to": new.version or new.name,
        "parameters": parameters,
        "periods": periods,
        "rules": _rules(old, new),
        "texts": _texts(old, new),
        "sources": _sources(old, new),
    }
    result["identical"] = not (
        parameters
        or any(periods.values())
        or any(result["rules"].values())
        or result["texts"]
        or any(result["sources"].values())
    )
    return result


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _source(policy: Policy, source_id: str) -> dict:
    source = policy.sources.get(source_id)
    return {"id": source_id, "ref": source.ref if source else None, "url": source.url if source else None}


# -- periods and their parameters ----------------------------------------------------------------


def _layers(policy: Policy) -> dict[tuple, Period]:
    periods = {("national", None, p.id): p for p in policy.national}
    for region, regional in policy.regional.items():
        periods.update((("regional", region, p.id), p) for p in regional)
    return periods


def _where(key: tuple, period: Period) -> dict:
    layer, region, pid = key
    return {
        "layer": layer,
        "home_region": region,
        "period": pid,
        "valid_from": period.valid_from.isoformat(),
        "valid_to": period.valid_to.isoformat() if period.valid_to else None,
    }


def _parameter(policy: Policy, parameter) -> dict:
    return {
        "value": _plain(parameter.value),
        "source": _source(policy, parameter.source),
        "assumption": parameter.assumption,
    }


def _whole(policy: Policy, key: tuple, period: Period) -> dict:
    params = {name: _parameter(policy, p) for name, p in period.parameters.items()}
    return {**_where(key, period), "parameters": params}


def _periods(old: Policy, new: Policy) -> tuple[list, dict]:
    before, after = _layers(old), _layers(new)
    parameters, changed = [], []
    for key in sorted(before.keys() & after.keys(), key=_order):
        was, now = before[key], after[key]
        if (was.valid_from, was.valid_to) != (now.valid_from, now.valid_to):
            changed.append(
                {
                    "layer": key[0],
                    "home_region": key[1],
                    "period": key[2],
                    "old": {"valid_from": was.valid_from.isoformat(), "valid_to": _iso(was.valid_to)},
                    "new": {"valid_from": now.valid_from.isoformat(), "valid_to": _iso(now.valid_to)},
                }
            )
        for name in sorted(was.parameters.keys() | now.parameters.keys()):
            a, b = was.parameters.get(name), now.parameters.get(name)
            if _same_parameter(a, b):
                continue
            parameters.append(
                {
                    **_where(key, now),
                    "parameter": name,
                    "old": _parameter(old, a) if a else None,
                    "new": _parameter(new, b) if b else None,
                }
            )
    periods = {
        "added": [_whole(new, key, after[key]) for key in sorted(after.keys() - before.keys(), key=_order)],
        "removed": [
            _whole(old, key, before[key]) for key in sorted(before.keys() - after.keys(), key=_order)
        ],
        "changed": changed,
    }
    return parameters, periods


def _order(key: tuple):
    layer, region, pid = key
    return (layer != "national", region or "", pid)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _same_parameter(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (_plain(a.value), a.source, a.assumption) == (_plain(b.value), b.source, b.assumption)


# -- rules ---------------------------------------------------------------------------------------


def _when(when: tuple) -> dict:
    return {name: [v for v in FACTS[name].domain if v in allowed] for name, allowed in when}


def _rule_fields(policy: Policy, rule: Rule) -> dict:
    return {
        "decision": rule.decision,
        "when": _when(rule.when),
        "amount": rule.amount,
        "flags": [{"flag": f.flag, "when": _when(f.when)} for f in rule.flags],
        "legal_basis": [_source(policy, sid) for sid in rule.legal_basis],
    }


def _rule(policy: Policy, rule: Rule) -> dict:
    return {"number": rule.number, "reason": rule.reason, **_rule_fields(policy, rule)}


def _rules(old: Policy, new: Policy) -> dict:
    before = {r.reason: r for r in old.rules}
    after = {r.reason: r for r in new.rules}
    common = [r.reason for r in old.rules if r.reason in after]
    kept_order = _longest_common([r for r in common], [r.reason for r in new.rules if r.reason in before])
    moved, changed = [], []
    for reason in common:
        was, now = before[reason], after[reason]
        if reason not in kept_order:
            moved.append({"reason": reason, "old_number": was.number, "new_number": now.number})
        a, b = _rule_fields(old, was), _rule_fields(new, now)
        changes = {name: {"old": a[name], "new": b[name]} for name in a if a[name] != b[name]}
        if changes:
            changed.append({"reason": reason, "number": now.number, "changes": changes})
    return {
        "added": [_rule(new, r) for r in new.rules if r.reason not in before],
        "removed": [_rule(old, r) for r in old.rules if r.reason not in after],
        "moved": moved,
        "changed": changed,
    }


def _longest_common(a: list, b: list) -> set:
    """The reasons that keep their relative order (a longest common subsequence): the others moved."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    kept, i, j = set(), 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            kept.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


# -- catalogue texts and sources -----------------------------------------------------------------


def _flat_texts(policy: Policy) -> dict[tuple, object]:
    catalogue = policy.catalogue
    out = {}
    for section, entries in (("reasons", catalogue.reasons), ("flags", catalogue.flags)):
        for code, body in entries.items():
            for key, value in body.items():
                if isinstance(value, dict):
                    out.update(((section, code, f"{key}.{lang}"), text) for lang, text in value.items())
                else:
                    out[(section, code, key)] = _plain(value)
    for kind, texts in catalogue.amounts.items():
        out.update((("amounts", kind, lang), text) for lang, text in texts.items())
    for group, names in catalogue.terms.items():
        for name, texts in names.items():
            out.update((("terms", f"{group}.{name}", lang), text) for lang, text in texts.items())
    return out


def _texts(old: Policy, new: Policy) -> list:
    before, after = _flat_texts(old), _flat_texts(new)
    return [
        {"section": section, "code": code, "key": key, "old": before.get(k), "new": after.get(k)}
        for k in sorted(before.keys() | after.keys())
        if before.get(k) != after.get(k)
        for section, code, key in (k,)
    ]


def _sources(old: Policy, new: Policy) -> dict:
    before, after = old.sources, new.sources
    return {
        "added": [_source(new, sid) for sid in sorted(after.keys() - before.keys())],
        "removed": [_source(old, sid) for sid in sorted(before.keys() - after.keys())],
        "changed": [
            {"id": sid, "old": _source(old, sid), "new": _source(new, sid)}
            for sid in sorted(before.keys() & after.keys())
            if before[sid] != after[sid]
        ],
    }
