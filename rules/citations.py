"""Where a verdict's legal basis comes from: derived once here for the evaluator and the catalogue.

A rule's own legal basis is stated once, on the rule in eligibility.yaml. A rule that rests on a
dated value (the national telephone rule, a regional decision, a contract) also cites that value's
`source` for the period in force, so one reason can cite different sources on different dates.
The evaluator cites from `cited_parameters` for the periods of a contact; the reason catalogue
(GET /v1/reasons) lists the same parameters with their source per period, so the two cannot
disagree.
"""

from dataclasses import dataclass

from .facts import FACTS
from .policy import Parameter, Period, Policy, Rule

DIGITAL_TARIFF = "digital_tariff"  # the amount kind capped by the national digital tariff


@dataclass(frozen=True)
class CitedParameter:
    """A dated parameter whose source a verdict with this rule cites, for the period in force."""

    layer: str  # "national", "regional" or "contracts"
    parameter: str  # "contract": the contract found for the provider, cited by its own source
    fact: str | None  # the fact whose test reads it; None when the amount reads it
    flag: str | None = None  # cited only when this flag is raised
    amount: str | None = None  # cited only when the amount is of this kind

    def applies(self, flags: tuple, kind: str) -> bool:
        return (self.flag is None or self.flag in flags) and (self.amount is None or self.amount == kind)


def rule_cites_a_parameter(when: tuple) -> bool:
    """Whether a verdict with this condition always cites some dated parameter's source."""
    return any(FACTS[name].cites(allowed) for name, allowed in when)


def cited_parameters(rule: Rule) -> tuple[CitedParameter, ...]:
    """The parameters a verdict with this rule cites besides the rule's own legal basis, in order:
    those its condition reads, those a flag's condition reads (when raised), the digital tariff
    (when a standard amount is capped by it)."""
    found = []
    for name, _ in rule.when:
        fact = FACTS[name]
        if fact.parameter is not None:
            found.append(CitedParameter(fact.layer, fact.parameter, name))
    for flag in rule.flags:
        for name, _ in flag.when:
            fact = FACTS[name]
            if fact.parameter is not None:
                found.append(CitedParameter(fact.layer, fact.parameter, name, flag=flag.flag))
    if rule.amount == "standard":
        found.append(CitedParameter("national", "digital_tariff_sek", None, amount=DIGITAL_TARIFF))
    return tuple(dict.fromkeys(found))


def periods_of(policy: Policy, cited: CitedParameter) -> list[tuple[Period, Parameter]] | None:
    """Every period of the layer with its value of the parameter; None for contracts, each of
    which cites its own source (the registry can change while the service runs)."""
    if cited.layer == "national":
        periods = policy.national
    elif cited.layer == "regional":
        periods = [period for region in sorted(policy.regional) for period in policy.regional[region]]
    else:
        return None
    return [(period, period.parameters[cited.parameter]) for period in periods]


def contract_ref(policy: Policy, contract) -> dict:
    """A contract's citation: its source from sources.yaml, else what the registry says it is."""
    source = policy.sources.get(contract.source)
    if source is not None:
        return source.to_dict()
    return {"ref": f"Avtal {contract.id}: {contract.source}".rstrip(": "), "url": None}
