"""How much a paid contact gets (SPEC section 5). All money in integer öre."""

from typing import NamedTuple

from .vocabulary import REMOTE_MODES


class Settlement(NamedTuple):
    amount_ore: int
    cap_ore: int | None
    tariff_ore: int | None
    kind: str  # the key of the amount text in the catalogue


NO_PAY = Settlement(0, None, None, "no_pay")
# Built with tuple.__new__, skipping the NamedTuple's own __new__: one Python call less per contact.
_new = tuple.__new__


def settle(rule, contact, nat, contract) -> Settlement:
    if rule.decision == "no_pay":
        return NO_PAY
    claimed = contact.claimed_ore
    if rule.amount == "contract":
        tariff = contract.tariff_ore.get(contact.profession)
        if tariff is None:
            return _new(Settlement, (claimed, None, None, "contract_no_tariff"))
        kind = "contract_tariff"
    elif contact.mode in REMOTE_MODES:
        tariff = nat.digital_tariff_ore[contact.profession]
        kind = "digital_tariff"
    else:
        return _new(Settlement, (claimed, None, None, "claimed"))
    cap = max(tariff - contact.patient_fee_ore, 0)
    return _new(Settlement, (min(claimed, cap), cap, tariff, kind))
