"""The impact of a policy version on the stored decision log: each stored decision decided again
under the version, summed up the way re-adjudication does (readjudicate.Tally), one contact at a
time so a million decisions take bounded memory.

Which decisions (the newest per contact in a period) and with which contracts (those the decision
was made with) is the caller's part (api/storage/policy_impact.py); this module only decides and
counts. It decides with the engine's compiled rule chain and amount rules (simulate.outcome, equal
to rules.evaluator.decide: tests/simulation/test_simulate.py), without building the explanation.
"""

import orjson

from ..errors import InvalidContact
from ..policy import Policy
from .readjudicate import Brief, Tally, parse_stored_contact
from .report import render_report
from .simulate import delta, outcome, roll_up, scenario_figures

REJECTED_LISTED = 100  # distinct errors listed; every rejected decision is counted


class Impact:
    def __init__(self, candidate: str):
        self.candidate = candidate  # how the report names the version decided under
        self.tally = Tally()
        self.rejected_count = 0
        self._rejected: dict[bytes, list] = {}  # errors as JSON -> [errors, count]

    def add(self, contact_text: str | bytes, before: Brief, policy: Policy) -> None:
        """One stored decision: its contact as the log keeps it (JSON), its verdict (decision,
        reason, amount in öre) and the candidate with the contracts it was decided with."""
        try:
            contact, age_group = parse_stored_contact(orjson.loads(contact_text))
            rule, amount = outcome(contact, policy)
        except InvalidContact as exc:
            self._reject(exc.errors)
            return
        self.tally.add(contact, age_group, before, (rule.decision, rule.reason, amount))

    def _reject(self, errors: dict) -> None:
        """A stored contact the candidate cannot decide (e.g. a date before its first period)."""
        self.rejected_count += 1
        key = orjson.dumps(errors, option=orjson.OPT_SORT_KEYS)
        held = self._rejected.get(key)
        if held is not None:
            held[1] += 1
        elif len(self._rejected) < REJECTED_LISTED:
            self._rejected[key] = [errors, 1]

    def to_dict(self) -> dict:
        total = self.tally.total()
        return {
            "decisions": total["decisions"],
            "changed_decisions": total["changed"],
            "changed": self.tally.changes(),
            "amount_before_sek": total["amount_before_sek"],
            "amount_after_sek": total["amount_after_sek"],
            "amount_delta_sek": total["amount_delta_sek"],
            **{f"by_{dimension}": self.tally.by(dimension) for dimension in self.tally.DIMENSIONS},
            "rejected": {
                "count": self.rejected_count,
                "items": [{"errors": errors, "count": n} for errors, n in self._rejected.values()],
            },
        }

    def report(self, data_label: str) -> str:
        """The simulation report's HTML page, the stored verdicts as its baseline scenario and the
        candidate as the other."""
        return render_report(self.as_simulation(), data_label=data_label)

    def as_simulation(self) -> dict:
        """The result in the shape of a simulation's (Simulation.to_dict), which the report reads."""
        before, after = _side(self.tally, Tally.BEFORE, 1), _side(self.tally, Tally.AFTER, 2)
        names = (("decided", "as decided (the stored verdicts)"), (self.candidate, "the policy version"))
        scenarios = [
            {"name": name, "title": title, "overrides": {}, **scenario_figures(side)}
            for (name, title), side in zip(names, (before, after), strict=True)
        ]
        change = {
            "scenario": self.candidate,
            "against": "decided",
            **delta(before, after, REPORTED),
            "changed": self.tally.changes(),
        }
        return {
            "count": before["count"],
            "baseline": "decided",
            "scenarios": scenarios,
            "deltas": [change],
            "rejected": {"count": self.rejected_count, "lines": []},
        }


REPORTED = ("age_group", "sex", "month")  # the report's breakdowns (the tally keeps no profession)


def _side(tally: Tally, at: int, amount_at: int) -> dict:
    """One side of the comparison (the stored verdicts, or the candidate's) rolled up from the
    tally's cells (roll_up)."""
    where = [Tally.DIMENSIONS.index(dimension) for dimension in REPORTED]
    return roll_up(
        (
            (key[at], key[at + 1], cell[0], cell[amount_at], [key[index] for index in where])
            for key, cell in tally.cells.items()
        ),
        REPORTED,
    )
