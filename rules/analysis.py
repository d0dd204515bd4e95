"""Static analysis of the rule list: rules that can never apply, cases that no rule decides.

Every fact has a finite domain, so the analysis simply enumerates every combination of the facts
the rules use (some 18,000) and asks which rule decides each. That treats facts as independent,
which over-approximates what can happen: a rule reported unreachable here is unreachable for real.
"""

from itertools import product

from .facts import FACTS


def _holds(when: tuple, assignment: dict) -> bool:
    for name, allowed in when:
        if assignment[name] not in allowed:
            return False
    return True


def analyse(rules: tuple) -> tuple[list[int], dict | None]:
    """Return (indexes of rules that can never apply, an undecided case or None)."""
    names = sorted({name for rule in rules for name, _ in rule.when})
    domains = [FACTS[name].domain for name in names]
    decided = [False] * len(rules)
    undecided = None
    for values in product(*domains):
        assignment = dict(zip(names, values, strict=True))
        for index, rule in enumerate(rules):
            if _holds(rule.when, assignment):
                decided[index] = True
                break
        else:
            if undecided is None:
                undecided = assignment
    return [i for i, hit in enumerate(decided) if not hit], undecided
