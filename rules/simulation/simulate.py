"""Streaming aggregation of contacts decided under several scenario policies.

Each contact is validated once (rules.parse_contact) and decided under every scenario. Only the
numbers a report needs are kept: one counter cell per (age group, sex, profession, month, the rule
that decided under each scenario), holding the number of contacts and the amount under each
scenario. One dictionary update per contact, however many scenarios; the breakdowns are rolled up
from the cells at the end. Memory is bounded by the number of distinct cells (a few thousand),
never by the number of contacts.

The decision itself is the compiled rule chain and the amount rules of the engine
(`policy.decide` and rules.amount.settle), the same two calls rules.evaluator.decide makes; the
explanation, legal basis and trace a Verdict carries are not built, since a simulation never shows
them (a Verdict costs four times the decision). tests/simulation/test_simulate.py proves the
outcome equals rules.evaluator.decide for every contact of a generated year under every scenario.

A simulation may look at any year (SPEC section 6: a generated 2030 is a forecast, not a bill), so
contacts are judged as of calendar.LAST_DAY: none is refused for a date after today.
"""

from collections.abc import Iterable

from ..amount import settle
from ..calendar import LAST_DAY
from ..errors import InvalidContact
from ..json_numbers import loads
from ..money import format_sek
from ..validation import parse_contact
from ..vocabulary import AGE_GROUPS
from .scenarios import build_policy, normalise, scenario_title

UNKNOWN = "unknown"
AGE_LABEL = {age: label for label, low, high in AGE_GROUPS for age in range(low, high + 1)}
DIMENSIONS = ("age_group", "sex", "profession", "month")
REJECTED_LISTED = 1000  # rejected lines listed in full; all are counted


def signed_sek(ore: int) -> str:
    """Money delta as a string: '-1234.50', '0.00', '+12.00'."""
    if ore < 0:
        return "-" + format_sek(-ore)
    return ("+" if ore > 0 else "") + format_sek(ore)


def outcome(contact, policy) -> tuple:
    """(rule, amount_ore) for a validated contact: the decision and amount of
    rules.evaluator.decide without the explanation. Raises InvalidContact before the policy starts."""
    day = contact.contact_date
    nat = policy.national_on(day)
    if nat is None:
        raise InvalidContact(
            {"contact_date": [f"No reimbursement policy before {policy.national_from.isoformat()}."]}
        )
    reg = policy.regional_on(contact.home_region, day)
    index, contract, _ = policy.decide(contact, nat, reg, policy.contracts.find)
    rule = policy.rules[index]
    if rule.decision == "no_pay":
        return rule, 0
    return rule, settle(rule, contact, nat, contract).amount_ore


class Simulation:
    """Accumulates contacts under a list of scenarios. Mergeable, so chunks can run in parallel."""

    def __init__(self, scenarios: list, contracts=None, base=None):
        """`contracts`: a ContractBook to use in every scenario instead of the shipped contracts
        (the service passes its registry's); `base`: the policy the scenarios are laid on instead of
        the shipped files (the service passes the version in force)."""
        self.specs = list(scenarios)
        self.names = [normalise(spec, f"scenarios[{i}]")["name"] for i, spec in enumerate(self.specs)]
        if len(set(self.names)) != len(self.names):
            from .scenarios import ScenarioError

            raise ScenarioError({"scenarios": ["Each scenario needs its own name."]})
        self.policies = [build_policy(spec, f"scenarios[{i}]", base) for i, spec in enumerate(self.specs)]
        if contracts is not None:
            self.policies = [policy.with_contracts(contracts) for policy in self.policies]
        # (age, sex, profession, month, (rule index per scenario)) -> [n, amount per scenario...]
        self.cells: dict[tuple, list[int]] = {}
        self.count = 0
        self.rejected_count = 0
        self.rejected: list[dict] = []  # {"index", "errors"}, the first REJECTED_LISTED
        self._months: dict = {}

    # -- adding -------------------------------------------------------------------------------
    def add(self, data, index: int) -> None:
        """One contact in its JSON shape; a bad one is counted and listed under its index."""
        try:
            contact = parse_contact(data, LAST_DAY)
            results = [outcome(contact, policy) for policy in self.policies]
        except InvalidContact as exc:
            self.reject(index, exc.errors)
            return
        self._aggregate(contact, results)

    def add_line(self, line: bytes, index: int) -> None:
        try:
            data = loads(line)
        except ValueError as exc:
            self.reject(index, {"_line": [f"Not valid JSON: {exc}"]})
            return
        self.add(data, index)

    def reject(self, index: int, errors: dict) -> None:
        self.rejected_count += 1
        if len(self.rejected) < REJECTED_LISTED:
            self.rejected.append({"index": index, "errors": errors})

    def _aggregate(self, contact, results) -> None:
        self.count += 1
        patient = contact.patient
        if patient is None:
            age, sex = UNKNOWN, UNKNOWN
        else:
            age = UNKNOWN if patient.age is None else AGE_LABEL[patient.age]
            sex = patient.sex or UNKNOWN
        day = contact.contact_date
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = f"{day.year:04d}-{day.month:02d}"
        key = (age, sex, contact.profession, month, tuple([rule.number for rule, _ in results]))
        cell = self.cells.get(key)
        if cell is None:
            self.cells[key] = [1, *(amount for _, amount in results)]
        else:
            cell[0] += 1
            for i, (_, amount) in enumerate(results, 1):
                cell[i] += amount

    def merge(self, other: "Simulation", index_offset: int = 0) -> None:
        """Fold another simulation of the same scenarios in (its indexes shifted by the offset)."""
        self.count += other.count
        for key, counts in other.cells.items():
            cell = self.cells.get(key)
            if cell is None:
                self.cells[key] = list(counts)
            else:
                for i, value in enumerate(counts):
                    cell[i] += value
        for item in other.rejected:
            if len(self.rejected) < REJECTED_LISTED:
                self.rejected.append({"index": item["index"] + index_offset, "errors": item["errors"]})
        self.rejected_count += other.rejected_count

    def state(self) -> tuple:
        """What a worker process sends back: small and picklable (no policies)."""
        return self.count, self.cells, self.rejected_count, self.rejected

    def merge_state(self, state: tuple, index_offset: int = 0) -> None:
        other = Simulation.__new__(Simulation)
        other.count, other.cells, other.rejected_count, other.rejected = state
        self.merge(other, index_offset)

    # -- results ------------------------------------------------------------------------------
    def totals(self, i: int) -> dict:
        """Scenario i rolled up (roll_up)."""
        rules = self.policies[i].rules
        rows = []
        for (*profile, numbers), counts in self.cells.items():
            rule = rules[numbers[i] - 1]
            rows.append((rule.decision, rule.reason, counts[0], counts[i + 1], profile))
        return roll_up(rows, DIMENSIONS)

    def to_dict(self) -> dict:
        """The JSON result: per scenario totals and breakdowns, deltas against the first scenario,
        and the rejected lines."""
        totals = [self.totals(i) for i in range(len(self.policies))]
        scenarios = []
        for name, spec, t in zip(self.names, self.specs, totals, strict=True):
            scenarios.append(
                {
                    "name": name,
                    "title": scenario_title(name) if isinstance(spec, str) else spec.get("title", name),
                    "overrides": {} if isinstance(spec, str) else spec.get("overrides", {}),
                    **scenario_figures(t),
                }
            )
        deltas = [
            {
                "scenario": self.names[j],
                "against": self.names[0],
                **delta(totals[0], totals[j], DIMENSIONS),
                "changed": self._changes(j),
            }
            for j in range(1, len(totals))
        ]
        return {
            "count": self.count,
            "baseline": self.names[0],
            "scenarios": scenarios,
            "deltas": deltas,
            "rejected": {
                "count": self.rejected_count,
                "lines": sorted(self.rejected, key=lambda r: r["index"]),
            },
        }

    def _changes(self, j: int) -> list[dict]:
        """Contacts whose reason or amount differs between the baseline and scenario j, grouped
        by (baseline reason, scenario reason), largest money change first."""
        base_rules, rules = self.policies[0].rules, self.policies[j].rules
        groups: dict[tuple[str, str], list[int]] = {}
        for (*_, numbers), counts in self.cells.items():
            before, after = base_rules[numbers[0] - 1].reason, rules[numbers[j] - 1].reason
            delta = counts[j + 1] - counts[1]
            if before == after and delta == 0:
                continue
            cell = groups.setdefault((before, after), [0, 0])
            cell[0] += counts[0]
            cell[1] += delta
        ordered = sorted(groups.items(), key=lambda item: (-abs(item[1][1]), item[0]))
        return [
            {"from": before, "to": after, "count": n, "amount_sek": signed_sek(amount)}
            for (before, after), (n, amount) in ordered
        ]


def roll_up(rows: Iterable[tuple], dimensions: tuple[str, ...]) -> dict:
    """Verdicts rolled up from rows (decision, reason, count, amount in öre, the value of each of
    `dimensions`): count, paid, amount_ore overall, by_reason {reason: [decision, n, öre]} and per
    dimension {value: [n, paid, öre]}."""
    out = {"count": 0, "paid": 0, "amount_ore": 0, "by_reason": {}, **{dim: {} for dim in dimensions}}
    for decision, reason, n, amount, values in rows:
        paid = n if decision == "pay" else 0
        out["count"] += n
        out["paid"] += paid
        out["amount_ore"] += amount
        cell = out["by_reason"].setdefault(reason, [decision, 0, 0])
        cell[1] += n
        cell[2] += amount
        for dim, value in zip(dimensions, values, strict=True):
            cell = out[dim].setdefault(value, [0, 0, 0])
            cell[0] += n
            cell[1] += paid
            cell[2] += amount
    return out


def scenario_figures(totals: dict) -> dict:
    """A scenario's figures in the result (SimulationResult), from its roll_up; a dimension it was
    not rolled up by is an empty breakdown."""
    return {
        "count": totals["count"],
        "paid": totals["paid"],
        "no_pay": totals["count"] - totals["paid"],
        "amount_sek": format_sek(totals["amount_ore"]),
        "by_reason": {
            reason: {"decision": d, "count": n, "amount_sek": format_sek(a)}
            for reason, (d, n, a) in sorted(totals["by_reason"].items())
        },
        **{
            f"by_{dim}": {
                key: {"count": n, "paid": p, "amount_sek": format_sek(a)}
                for key, (n, p, a) in sorted(totals.get(dim, {}).items(), key=_dimension_order(dim))
            }
            for dim in DIMENSIONS
        },
    }


def delta(base: dict, other: dict, dimensions: tuple[str, ...]) -> dict:
    """What changes from one roll_up to another: paid, amount and, per dimension, each value's."""
    out = {
        "paid": other["paid"] - base["paid"],
        "amount_sek": signed_sek(other["amount_ore"] - base["amount_ore"]),
    }
    for dim in dimensions:
        keys = sorted(set(base[dim]) | set(other[dim]), key=lambda k: _dimension_order(dim)((k, None)))
        out[f"by_{dim}"] = {
            key: {
                "paid": other[dim].get(key, [0, 0, 0])[1] - base[dim].get(key, [0, 0, 0])[1],
                "amount_sek": signed_sek(
                    other[dim].get(key, [0, 0, 0])[2] - base[dim].get(key, [0, 0, 0])[2]
                ),
            }
            for key in keys
        }
    return out


_AGE_ORDER = {label: i for i, (label, _, _) in enumerate(AGE_GROUPS)}


def _dimension_order(dim: str):
    if dim == "age_group":
        return lambda item: _AGE_ORDER.get(item[0], len(_AGE_ORDER))
    return lambda item: item[0]


def simulate_contacts(contacts: Iterable, scenarios: list, contracts=None, base=None) -> Simulation:
    """Decide every contact (dicts) under every scenario, in this process."""
    simulation = Simulation(scenarios, contracts, base)
    for index, data in enumerate(contacts):
        simulation.add(data, index)
    return simulation
