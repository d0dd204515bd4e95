"""Explanations are memoised by the verdict attributes each template reads (rules/explain.py): a
memoised text must always be the text a fresh rendering gives for that very verdict."""

import contact_strategies
from hypothesis import HealthCheck, given, settings

import rules
from rules.explain import _template


def _fresh(verdict) -> dict:
    template = _template(verdict)
    return {
        "sv": template.sv.format(*[get(verdict, "sv") for get in template.sv_getters]),
        "en": template.en.format(*[get(verdict, "en") for get in template.en_getters]),
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contact_strategies.valid_contacts())
def test_memoised_explanation_equals_fresh_rendering(data):
    verdict = rules.evaluate(data)
    assert verdict.explanation() == _fresh(verdict)
    assert verdict.explanation() == _fresh(verdict)  # the second one comes from the memo


def test_explanation_names_the_numbers_of_this_verdict():
    base = {
        "contact_id": "x-1",
        "contact_date": "2021-03-01",
        "home_region": "25",
        "care_region": "06",
        "provider_id": "SE162321000255-K001",
        "mode": "video",
        "care_category": "planned",
        "profession": "physician",
        "digital_requirements": dict.fromkeys(
            ("qualified_care", "strong_authentication", "journaled", "triaged"), True
        ),
        "claimed_amount_sek": "450.00",
    }
    first = rules.evaluate(base).explanation()
    second = rules.evaluate(dict(base, claimed_amount_sek="320.00", patient_fee_sek="100")).explanation()
    assert "450.00 SEK" in first["en"] and "450,00 kr" in first["sv"]
    assert "320.00 SEK" in second["en"] and "patient fee 100.00 SEK" in second["en"]
    assert "400,00 kr" in second["sv"]  # the cap: 500 - 100
