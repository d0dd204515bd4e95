"""Immutable policy objects, compiled once from the YAML under rules/policy/."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from .contracts import ContractBook


@dataclass(frozen=True)
class Source:
    id: str
    ref: str
    url: str

    def to_dict(self) -> dict:
        return {"ref": self.ref, "url": self.url}


@dataclass(frozen=True)
class Parameter:
    """One dated policy value with the source it comes from."""

    name: str
    value: object
    source: str
    assumption: str | None = None


@dataclass(frozen=True, eq=False)
class Period:
    """One effective-dated block of a layer: valid_from and valid_to inclusive, valid_to None = open.
    Compared and hashed by identity: each is loaded once, and verdict caches key on it."""

    id: str
    layer: str
    valid_from: date
    valid_to: date | None
    parameters: Mapping[str, Parameter]
    digest: str
    file: str

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def ref(self) -> dict:
        return {"id": self.id, "valid_from": self.valid_from.isoformat()}


@dataclass(frozen=True, kw_only=True, eq=False)
class NationalPeriod(Period):
    digital_tariff_ore: Mapping[str, int]
    telephone_reimbursed: bool
    invoice_limit_months: int


@dataclass(frozen=True, kw_only=True, eq=False)
class RegionalPeriod(Period):
    home_region: str
    referral_specialties: frozenset
    digital_stop: str


@dataclass(frozen=True)
class FlagRule:
    flag: str
    when: tuple  # ((fact, frozenset of values), ...); empty = always


@dataclass(frozen=True)
class Rule:
    number: int  # 1-based position: the order is the law
    reason: str
    decision: str
    when: tuple
    amount: str | None
    flags: tuple[FlagRule, ...]
    legal_basis: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    reasons: Mapping[str, Mapping]
    flags: Mapping[str, Mapping]
    amounts: Mapping[str, Mapping[str, str]]
    terms: Mapping[str, Mapping[str, Mapping[str, str]]]


def _find_period(periods: tuple, day: date):
    for period in periods:
        if period.covers(day):
            return period
    return None


@dataclass(frozen=True, eq=False)
class Policy:
    """Everything a verdict depends on. Build with rules.loader.load_policy()."""

    rules: tuple[Rule, ...]
    national: tuple[NationalPeriod, ...]
    national_from: date
    regional: Mapping[str, tuple[RegionalPeriod, ...]]
    contracts: ContractBook
    sources: Mapping[str, Source]
    catalogue: Catalogue
    rules_digest: str
    decide: Callable = field(repr=False)
    decide_source: str = field(repr=False, default="")
    name: str = "in_force"
    # The version (rules/policy_version.py) when loaded from files: its digest and files; "" and {}
    # for a policy built from documents in memory (a simulation's scenario).
    version: str = ""
    files: Mapping[str, str] = field(default_factory=dict, repr=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def national_on(self, day: date) -> NationalPeriod | None:
        key = ("n", day)
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = _find_period(self.national, day)
            return found

    def regional_on(self, home_region: str, day: date) -> RegionalPeriod | None:
        key = (home_region, day)
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = _find_period(self.regional.get(home_region, ()), day)
            return found

    def layers_for(self, home_region: str, day: date) -> tuple:
        """(national period, regional period or None) in force on `day`: one lookup per contact."""
        key = (home_region, day, "layers")
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = (self.national_on(day), self.regional_on(home_region, day))
            return found

    def summary(self) -> str:
        """What a check says of a policy that passed it."""
        regions = ", ".join(sorted(self.regional)) or "none"
        return (
            f"policy ok: {len(self.rules)} rules, {len(self.national)} national periods, "
            f"regional layers for {regions}"
        )

    def with_contracts(self, contracts: ContractBook) -> "Policy":
        """The same rules and layers with another contract registry (e.g. the database's)."""
        return replace(self, contracts=contracts, _cache={})
