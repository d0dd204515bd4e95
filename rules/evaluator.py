"""Evaluate contacts against a compiled Policy: pure functions, same input, same verdict."""

from collections.abc import Iterable, Iterator

from .amount import settle
from .contact import Contact
from .errors import InvalidContact
from .facts import FACTS
from .policy import Policy
from .validation import parse_contact
from .verdict import Verdict

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
    settlement = settle(rule, contact, nat, contract)
    if settlement.cap_ore is not None and settlement.cap_ore < contact.claimed_ore:
        flags = flags + (CLAIM_EXCEEDS_TARIFF,)
    legal_basis, assumptions = _basis(policy, index, nat, reg, contract, flags, settlement.kind)
    if assumptions:
        flags = flags + (ASSUMED_EFFECTIVE_DATE,)
    return Verdict(
        contact,
        rule,
        settlement.amount_ore,
        settlement.cap_ore,
        settlement.tariff_ore,
        settlement.kind,
        flags,
        legal_basis,
        assumptions,
        nat,
        reg,
        contract,
        policy,
    )


def evaluate(data: dict, policy: Policy) -> Verdict:
    """Validate a contact in its JSON shape and decide it. Raises InvalidContact."""
    return decide(parse_contact(data), policy)


def evaluate_many(contacts: Iterable[dict], policy: Policy) -> Iterator[Verdict | InvalidContact]:
    """One result per input, in order: a Verdict, or the InvalidContact that explains the line."""
    for data in contacts:
        try:
            yield decide(parse_contact(data), policy)
        except InvalidContact as exc:
            yield exc


def _basis(policy, index, nat, reg, contract, flags, kind):
    """Legal basis and assumed values a verdict rests on; memoised per combination of layers."""
    key = ("basis", index, nat.id, reg.id if reg else None, contract.id if contract else None, flags, kind)
    cached = policy._cache.get(key)
    if cached is not None:
        return cached
    rule = policy.rules[index]
    catalogue = policy.catalogue
    used = [name for name, _ in rule.when]
    for flag in rule.flags:
        if flag.flag in flags:
            used.extend(name for name, _ in flag.when)
    parameters = []
    for name in used:
        fact = FACTS[name]
        period = nat if fact.layer == "national" else reg if fact.layer == "regional" else None
        if period is not None:
            parameters.append((period, period.parameters[fact.parameter]))
    if kind == "digital_tariff":
        parameters.append((nat, nat.parameters["digital_tariff_sek"]))

    source_ids = list(rule.legal_basis)
    source_ids.extend(param.source for _, param in parameters)
    for flag in flags:
        source_ids.extend(catalogue.flags[flag]["legal_basis"])
    refs = []
    seen = set()
    for sid in source_ids:
        if sid not in seen:
            seen.add(sid)
            refs.append(policy.sources[sid].to_dict())
    if contract is not None and rule.amount == "contract":
        source = policy.sources.get(contract.source)
        refs.append(
            source.to_dict()
            if source
            else {"ref": f"Avtal {contract.id}: {contract.source}".rstrip(": "), "url": None}
        )
    assumptions = tuple(
        dict.fromkeys(f"{period.id}: {param.name}" for period, param in parameters if param.assumption)
    )
    result = policy._cache[key] = (tuple(refs), assumptions)
    return result
