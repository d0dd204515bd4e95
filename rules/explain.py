"""Explanations in Swedish and English, with the numbers the verdict used."""

from .calendar import add_months
from .money import format_sek, format_sek_sv
from .regions import REGIONS

_MONEY = {"sv": format_sek_sv, "en": format_sek}
_NONE = {"sv": "–", "en": "–"}


def _values(verdict, lang: str) -> dict:
    c = verdict.contact
    terms = verdict.policy.catalogue.terms
    money = _MONEY[lang]
    nat, reg, contract = verdict.nat, verdict.reg, verdict.contract
    dr = c.digital_requirements
    unmet = dr.unmet() if dr is not None else ()
    return {
        "home_region": c.home_region,
        "home_region_name": REGIONS[c.home_region],
        "care_region": c.care_region,
        "care_region_name": REGIONS[c.care_region],
        "contact_date": c.contact_date.isoformat(),
        "invoice_date": c.invoice_date.isoformat() if c.invoice_date else _NONE[lang],
        "invoice_deadline": add_months(c.contact_date, nat.invoice_limit_months).isoformat(),
        "limit_months": nat.invoice_limit_months,
        "provider_id": c.provider_id,
        "contract_id": contract.id if contract else _NONE[lang],
        "contract_valid_from": contract.valid_from.isoformat() if contract else _NONE[lang],
        "contract_valid_to": (
            contract.valid_to.isoformat() if contract and contract.valid_to else _NONE[lang]
        ),
        "mode": terms["mode"][c.mode][lang],
        "profession": terms["profession"][c.profession][lang],
        "care_category": terms["care_category"][c.care_category][lang],
        "specialty": c.specialty or _NONE[lang],
        "regional_layer": reg.id if reg else _NONE[lang],
        "regional_valid_from": reg.valid_from.isoformat() if reg else _NONE[lang],
        "unmet_requirements": ", ".join(terms["digital_requirement"][n][lang] for n in unmet),
        "claimed": money(c.claimed_ore),
        "cap": money(verdict.cap_ore) if verdict.cap_ore is not None else _NONE[lang],
        "amount": money(verdict.amount_ore),
        "tariff": money(verdict.tariff_ore) if verdict.tariff_ore is not None else _NONE[lang],
        "patient_fee": money(c.patient_fee_ore),
        "assumptions": "; ".join(verdict.assumptions) or _NONE[lang],
    }


def explain(verdict) -> dict[str, str]:
    catalogue = verdict.policy.catalogue
    out = {}
    for lang in ("sv", "en"):
        values = _values(verdict, lang)
        parts = [catalogue.reasons[verdict.reason]["explanation"][lang].format_map(values)]
        for flag in verdict.flags:
            parts.append(catalogue.flags[flag]["explanation"][lang].format_map(values))
        parts.append(catalogue.amounts[verdict.amount_kind][lang].format_map(values))
        out[lang] = " ".join(parts)
    return out
