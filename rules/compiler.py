"""Compile the eligibility rules into one Python function, once, at load.

The rules are data (policy/eligibility.yaml); evaluating them through a generic interpreter costs
several times a hand-written if-chain. So the loader turns them into exactly that if-chain, keeps
its source on the Policy for audit (`python -m rules show-compiled`), and every verdict runs it.

The generated function is `decide(c, nat, reg, find_contract) -> (rule_index, contract, flags)`.
"""

from .calendar import add_months
from .facts import FACTS


def condition_source(when: tuple) -> str:
    """A Python boolean expression for a conjunction of fact tests."""
    if not when:
        return "True"
    parts = []
    for name, allowed in when:
        fact = FACTS[name]
        values = sorted(allowed, key=repr)
        if len(values) == 1 and isinstance(values[0], bool):
            parts.append(fact.expr if values[0] else f"not {fact.expr}")
        elif len(values) == 1:
            parts.append(f"{fact.expr} == {values[0]!r}")
        elif set(values) == set(fact.domain):
            continue  # every value allowed: no test
        else:
            parts.append(f"{fact.expr} in {tuple(values)!r}")
    return " and ".join(parts) or "True"


def _flags_source(rule) -> str:
    pieces = []
    for flag in rule.flags:
        if flag.when:
            pieces.append(f"((({flag.flag!r},) if {condition_source(flag.when)} else ()))")
        else:
            pieces.append(f"({flag.flag!r},)")
    return " + ".join(pieces) if pieces else "()"


def _needs_contract(when: tuple) -> bool:
    return any(FACTS[name].needs_contract for name, _ in when)


def generate_source(rules: tuple) -> str:
    lines = [
        "def decide(c, nat, reg, find_contract):",
        "    contract = None",
    ]
    bound = False
    for index, rule in enumerate(rules):
        needs = _needs_contract(rule.when) or any(_needs_contract(f.when) for f in rule.flags)
        if needs and not bound:
            lines.append("    contract = find_contract(c.home_region, c.provider_id, c.contact_date)")
            bound = True
        lines.append(f"    # {rule.number}. {rule.reason} -> {rule.decision}")
        lines.append(f"    if {condition_source(rule.when)}:")
        lines.append(f"        return {index}, contract, {_flags_source(rule)}")
    lines.append("    return None, contract, ()")
    return "\n".join(lines) + "\n"


def compile_rules(rules: tuple, filename: str):
    """Return (decide, source)."""
    source = generate_source(rules)
    namespace = {"add_months": add_months}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - source generated from checked data
    return namespace["decide"], source
