"""Explanations in Swedish and English, with the numbers the verdict used.

Rendering sits on the hot path of every batch response, so the reason, flag and amount texts are
joined into one template per combination, compiled once (cached on the policy) into a positional
template and the getters of exactly the placeholders it names; and since a batch repeats the same
few combinations of mode, profession, tariff and amounts, rendered texts are memoised by the
verdict attributes the template reads.
"""

import string
from operator import attrgetter

from .calendar import add_months
from .money import format_sek, format_sek_sv
from .regions import REGIONS

NONE = "–"


def _money(lang, ore):
    if ore is None:
        return NONE
    return format_sek_sv(ore) if lang == "sv" else format_sek(ore)


def _date(value):
    return value.isoformat() if value is not None else NONE


def _unmet(v, lang):
    dr = v.contact.digital_requirements
    names = dr.unmet() if dr is not None else ()
    terms = v.policy.catalogue.terms["digital_requirement"]
    return ", ".join(terms[name][lang] for name in names)


def _term(group, attribute):
    return lambda v, lang: v.policy.catalogue.terms[group][getattr(v.contact, attribute)][lang]


# placeholder -> f(verdict, lang); the loader rejects templates naming anything else.
_PLACEHOLDERS = {
    "home_region": lambda v, lang: v.contact.home_region,
    "home_region_name": lambda v, lang: REGIONS[v.contact.home_region],
    "care_region": lambda v, lang: v.contact.care_region,
    "care_region_name": lambda v, lang: REGIONS[v.contact.care_region],
    "contact_date": lambda v, lang: v.contact.contact_date.isoformat(),
    "invoice_date": lambda v, lang: _date(v.contact.invoice_date),
    "invoice_deadline": lambda v, lang: add_months(
        v.contact.contact_date, v.nat.invoice_limit_months
    ).isoformat(),
    "limit_months": lambda v, lang: v.nat.invoice_limit_months,
    "provider_id": lambda v, lang: v.contact.provider_id,
    "contract_id": lambda v, lang: v.contract.id if v.contract else NONE,
    "contract_valid_from": lambda v, lang: _date(v.contract.valid_from if v.contract else None),
    "contract_valid_to": lambda v, lang: _date(v.contract.valid_to if v.contract else None),
    "mode": _term("mode", "mode"),
    "profession": _term("profession", "profession"),
    "care_category": _term("care_category", "care_category"),
    "specialty": lambda v, lang: v.contact.specialty or NONE,
    "regional_layer": lambda v, lang: v.reg.id if v.reg else NONE,
    "regional_valid_from": lambda v, lang: _date(v.reg.valid_from if v.reg else None),
    "unmet_requirements": _unmet,
    "claimed": lambda v, lang: _money(lang, v.contact.claimed_ore),
    "cap": lambda v, lang: _money(lang, v.cap_ore),
    "amount": lambda v, lang: _money(lang, v.amount_ore),
    "tariff": lambda v, lang: _money(lang, v.tariff_ore),
    "patient_fee": lambda v, lang: _money(lang, v.contact.patient_fee_ore),
    "assumptions": lambda v, lang: "; ".join(v.assumptions) or NONE,
}
# placeholder -> the verdict attributes its text depends on: a rendered explanation is reused for
# any verdict that agrees on all of them (see explain()).
_INPUTS = {
    "home_region": ("contact.home_region",),
    "home_region_name": ("contact.home_region",),
    "care_region": ("contact.care_region",),
    "care_region_name": ("contact.care_region",),
    "contact_date": ("contact.contact_date",),
    "invoice_date": ("contact.invoice_date",),
    "invoice_deadline": ("contact.contact_date", "nat"),
    "limit_months": ("nat",),
    "provider_id": ("contact.provider_id",),
    "contract_id": ("contract",),
    "contract_valid_from": ("contract",),
    "contract_valid_to": ("contract",),
    "mode": ("contact.mode",),
    "profession": ("contact.profession",),
    "care_category": ("contact.care_category",),
    "specialty": ("contact.specialty",),
    "regional_layer": ("reg",),
    "regional_valid_from": ("reg",),
    "unmet_requirements": ("contact.digital_requirements",),
    "claimed": ("contact.claimed_ore",),
    "cap": ("cap_ore",),
    "amount": ("amount_ore",),
    "tariff": ("tariff_ore",),
    "patient_fee": ("contact.patient_fee_ore",),
    "assumptions": ("assumptions",),
}
PLACEHOLDERS = frozenset(_PLACEHOLDERS)
assert PLACEHOLDERS == frozenset(_INPUTS)
MEMO_LIMIT = 4096  # rendered explanations kept per template; beyond it, rendered each time


def _compile(text: str):
    """Turn a template with named placeholders into a positional one plus its value getters."""
    getters = []
    pieces = []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        pieces.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is not None:
            getters.append(_PLACEHOLDERS[name])
            pieces.append(
                "{"
                + str(len(getters) - 1)
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
    return "".join(pieces), tuple(getters)


class _Template:
    """One reason + flags + amount text in both languages, with a memo of rendered texts keyed by
    the verdict attributes the placeholders read (one C-level attrgetter call per verdict)."""

    __slots__ = ("sv", "sv_getters", "en", "en_getters", "key", "memo")

    def __init__(self, sv: str, en: str):
        self.sv, self.sv_getters = _compile(sv)
        self.en, self.en_getters = _compile(en)
        names = [name for text in (sv, en) for _, name, _, _ in string.Formatter().parse(text) if name]
        paths = sorted({path for name in names for path in _INPUTS[name]})
        # attrgetter of one path returns the value itself, of none fails: always make it a tuple.
        self.key = attrgetter(*paths, "amount_kind") if paths else attrgetter("amount_kind", "amount_kind")
        self.memo: dict = {}

    def render(self, verdict) -> dict[str, str]:
        key = self.key(verdict)
        texts = self.memo.get(key)
        if texts is None:
            texts = (
                self.sv.format(*[get(verdict, "sv") for get in self.sv_getters]),
                self.en.format(*[get(verdict, "en") for get in self.en_getters]),
            )
            if len(self.memo) < MEMO_LIMIT:
                self.memo[key] = texts
        return {"sv": texts[0], "en": texts[1]}


def _template(verdict) -> _Template:
    policy = verdict.policy
    key = ("explain", verdict.rule.reason, verdict.flags, verdict.amount_kind)
    cached = policy._cache.get(key)
    if cached is None:
        catalogue = policy.catalogue
        texts = []
        for lang in ("sv", "en"):
            parts = [catalogue.reasons[verdict.rule.reason]["explanation"][lang]]
            parts.extend(catalogue.flags[flag]["explanation"][lang] for flag in verdict.flags)
            parts.append(catalogue.amounts[verdict.amount_kind][lang])
            texts.append(" ".join(parts))
        cached = policy._cache[key] = _Template(*texts)
    return cached


def explain(verdict) -> dict[str, str]:
    return _template(verdict).render(verdict)
