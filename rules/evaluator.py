"""Evaluate contacts against a compiled Policy: pure functions, same input, same verdict."""

from collections.abc import Iterable, Iterator
from datetime import date

from .amount import settle
from .citations import cited_parameters, contract_ref
from .contact import Contact
from .errors import InvalidContact
from .policy import Policy
from .validation import parse_contact
from .verdict import Verdict

# A Verdict is built with tuple.__new__, skipping the NamedTuple's own __new__ (a Python function
# call per contact): the engine's speed goal counts every call.
new_verdict = tuple.__new__
CLAIM_EXCEEDS_TARIFF = "CLAIM_EXCEEDS_TARIFF"
ASSUMED_EFFECTIVE_DATE = "ASSUMED_EFFECTIVE_DATE"


def decide(contact: Contact, policy: Policy) -> Verdict:
    """The verdict for an already validated contact."""
    nat, reg = policy.layers_for(contact.home_region, contact.contact_date)
    if nat is None:
        raise InvalidContact(
            {
                "contact_date": [
                    f"No reimbursement policy before {policy.national_from.isoformat()}: "
                    "the national digital tariff starts then."
                ]
            }
        )
    index, contract, flags = policy.decide(contact, nat, reg, policy.contracts.find)
    rule = policy.rules[index]
    amount_ore, cap_ore, tariff_ore, kind = settle(rule, contact, nat, contract)
    if cap_ore is not None and cap_ore < contact.claimed_ore:
        flags = flags + (CLAIM_EXCEEDS_TARIFF,)
    key = ("basis", index, nat.id, reg.id if reg else None, contract.id if contract else None, flags, kind)
    basis = policy._cache.get(key)
    if basis is None:
        basis = policy._cache[key] = _basis(policy, index, nat, reg, contract, flags, kind)
    legal_basis, assumptions = basis
    if assumptions:
        flags = flags + (ASSUMED_EFFECTIVE_DATE,)
    return new_verdict(
        Verdict,
        (
            contact,
            rule,
            amount_ore,
            cap_ore,
            tariff_ore,
            kind,
            flags,
            legal_basis,
            assumptions,
            nat,
            reg,
            contract,
            policy,
        ),
    )


def evaluate_many(
    contacts: Iterable[dict], policy: Policy, today: date | None = None
) -> Iterator[Verdict | InvalidContact]:
    """One result per input, in order: a Verdict, or the InvalidContact that explains the line."""
    for data in contacts:
        try:
            yield decide(parse_contact(data, today), policy)
        except InvalidContact as exc:
            yield exc


def _basis(policy, index, nat, reg, contract, flags, kind):
    """Legal basis and assumed values a verdict rests on (decide() keeps them per combination of
    layers, rule, flags and amount kind). The rule's own legal basis, then the source of each
    parameter it rests on for the period in force (rules/citations.py, which GET /v1/reasons lists
    too), then the raised flags' basis."""
    rule = policy.rules[index]
    parameters = []
    cite_contract = False
    for cited in cited_parameters(rule):
        if not cited.applies(flags, kind):
            continue
        if cited.layer == "contracts":
            cite_contract = contract is not None
            continue
        period = nat if cited.layer == "national" else reg
        if period is not None:
            parameters.append((period, period.parameters[cited.parameter]))

    source_ids = list(rule.legal_basis)
    source_ids.extend(param.source for _, param in parameters)
    for flag in flags:
        source_ids.extend(policy.catalogue.flags[flag]["legal_basis"])
    refs = [policy.sources[sid].to_dict() for sid in dict.fromkeys(source_ids)]
    if cite_contract:
        refs.append(contract_ref(policy, contract))
    assumptions = tuple(
        dict.fromkeys(f"{period.id}: {param.name}" for period, param in parameters if param.assumption)
    )
    return tuple(refs), assumptions
