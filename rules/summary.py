"""Counts and sums of verdicts by decision and reason: for batches, the CLI and simulations."""

from .money import format_sek


class Summary:
    __slots__ = ("count", "rejected", "by_decision", "by_reason")

    def __init__(self):
        self.count = 0
        self.rejected = 0
        self.by_decision = {"pay": [0, 0], "no_pay": [0, 0]}
        self.by_reason: dict[str, list[int]] = {}

    def add(self, verdict) -> None:
        self.count += 1
        amount = verdict.amount_ore
        cell = self.by_decision[verdict.rule.decision]
        cell[0] += 1
        cell[1] += amount
        cell = self.by_reason.get(verdict.rule.reason)
        if cell is None:
            cell = self.by_reason[verdict.rule.reason] = [0, 0]
        cell[0] += 1
        cell[1] += amount

    def add_decision(self, decision: str, reason: str, amount_ore: int, times: int = 1) -> None:
        """Count a decision known by its parts (`times=-1` takes one back): a verdict stored before."""
        self.count += times
        for table, key in ((self.by_decision, decision), (self.by_reason, reason)):
            cell = table.setdefault(key, [0, 0])
            cell[0] += times
            cell[1] += times * amount_ore
            if table is self.by_reason and cell[0] == 0:
                del table[key]

    def add_rejected(self) -> None:
        self.rejected += 1

    def merge(self, other: "Summary") -> None:
        """Add another summary's counts and sums (a batch decided in chunks, maybe in two processes)."""
        self.count += other.count
        self.rejected += other.rejected
        for table, cells in ((self.by_decision, other.by_decision), (self.by_reason, other.by_reason)):
            for key, (n, ore) in cells.items():
                cell = table.setdefault(key, [0, 0])
                cell[0] += n
                cell[1] += ore

    @property
    def amount_ore(self) -> int:
        return self.by_decision["pay"][1]

    def to_dict(self) -> dict:
        return {
            "count": self.count,
            "pay": self.by_decision["pay"][0],
            "no_pay": self.by_decision["no_pay"][0],
            "rejected": self.rejected,
            "amount_sek_total": format_sek(self.amount_ore),
            "by_reason": {
                reason: {"count": n, "amount_sek": format_sek(ore)}
                for reason, (n, ore) in sorted(self.by_reason.items())
            },
        }
