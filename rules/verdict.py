"""A verdict: the decision for one contact, and everything needed to explain it to an auditor."""

from typing import NamedTuple

from .contact import Contact
from .contracts import Contract
from .digest import digest_of
from .explain import explain
from .money import format_sek
from .policy import NationalPeriod, Policy, RegionalPeriod, Rule


class Verdict(NamedTuple):
    """Immutable (a NamedTuple: one is built per contact, and it is cheaper than a frozen
    dataclass). The JSON form is built by to_dict() only when asked for."""

    contact: Contact
    rule: Rule
    amount_ore: int
    cap_ore: int | None
    tariff_ore: int | None
    amount_kind: str
    flags: tuple[str, ...]
    legal_basis: tuple[dict, ...]
    assumptions: tuple[str, ...]
    nat: NationalPeriod
    reg: RegionalPeriod | None
    contract: Contract | None
    policy: Policy

    @property
    def contact_id(self) -> str:
        return self.contact.contact_id

    @property
    def decision(self) -> str:
        return self.rule.decision

    @property
    def reason(self) -> str:
        return self.rule.reason

    @property
    def amount_sek(self) -> str:
        return format_sek(self.amount_ore)

    def trace(self) -> list[dict]:
        return trace_upto(self.policy, self.rule.number)

    def policy_ref(self) -> dict:
        return policy_ref(self.policy, self.contact.home_region, self.nat, self.reg, self.contract)

    def explanation(self) -> dict[str, str]:
        return explain(self)

    def to_dict(self) -> dict:
        """The verdict in the JSON shape of SPEC section 6 (without decision_id and evaluated_at,
        which the service adds)."""
        return {
            "contact_id": self.contact.contact_id,
            "decision": self.rule.decision,
            "reason": self.rule.reason,
            "amount_sek": format_sek(self.amount_ore),
            "cap_sek": format_sek(self.cap_ore) if self.cap_ore is not None else None,
            "explanation": explain(self),
            "legal_basis": list(self.legal_basis),
            "flags": list(self.flags),
            "trace": self.trace(),
            "policy": self.policy_ref(),
        }


def trace_upto(policy: Policy, number: int) -> list[dict]:
    """Rules 1..number-1 looked at and not applicable, rule `number` applied."""
    key = ("trace", number)
    cached = policy._cache.get(key)
    if cached is None:
        cached = policy._cache[key] = tuple(
            {"rule": rule.reason, "outcome": "applied" if rule.number == number else "not_applicable"}
            for rule in policy.rules[:number]
        )
    return list(cached)


def policy_ref(policy: Policy, home_region: str, nat, reg, contract) -> dict:
    key = ("ref", home_region, nat.id, reg.id if reg else None, contract.digest if contract else None)
    cached = policy._cache.get(key)
    if cached is None:
        layers = [p for p in (nat, reg, contract) if p is not None]
        digest = digest_of(
            {
                "rules": policy.rules_digest,
                "layers": [getattr(p, "digest", None) for p in layers],
            }
        )
        cached = policy._cache[key] = (home_region, tuple(p.ref() for p in layers), digest)
    ref = {"home_region": cached[0], "layers": list(cached[1]), "digest": cached[2]}
    if policy.version:
        ref["version"] = policy.version
    return ref
