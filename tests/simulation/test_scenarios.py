"""Scenarios are overlays on the policy documents and pass the same checks as the shipped policy."""

from datetime import date

import pytest

from rules.evaluator import decide
from rules.simulation.scenarios import ScenarioError, build_policy, named_scenarios
from rules.validation import parse_contact

REQS = {"qualified_care": True, "strong_authentication": True, "journaled": True, "triaged": True}


def _contact(**extra):
    body = {
        "contact_id": "t-1",
        "contact_date": "2020-03-02",
        "home_region": "25",
        "care_region": "06",
        "provider_id": "SYN-HSA-06-0001",
        "mode": "video",
        "care_category": "planned",
        "profession": "physician",
        "digital_requirements": REQS,
        "claimed_amount_sek": "500.00",
    }
    body.update(extra)
    return parse_contact(body)


def test_the_named_scenarios_build():
    assert {"in_force", "national_only", "ds_2023_27", "stop_from_2020"} <= set(named_scenarios())
    for name in named_scenarios():
        assert build_policy(name).name == name


def test_national_only_has_no_regional_layer():
    policy = build_policy("national_only")
    assert dict(policy.regional) == {}
    verdict = decide(_contact(contact_date="2022-03-01"), policy)
    assert (verdict.decision, verdict.reason) == ("pay", "DIGITAL_TARIFF")
    assert (
        decide(_contact(contact_date="2022-03-01"), build_policy("in_force")).reason
        == "DIGITAL_NOT_CONTRACTED"
    )


@pytest.mark.parametrize(
    "extra, reason",
    [
        ({}, "NEEDS_ASSESSMENT_MISSING"),
        ({"needs_assessment": False}, "NEEDS_ASSESSMENT_MISSING"),
        ({"needs_assessment": True}, "DIGITAL_TARIFF"),
        ({"referral": "home_region_referral"}, "NEEDS_ASSESSMENT_MISSING"),
        ({"referral": "home_region_referral", "needs_assessment": True}, "DIGITAL_REFERRED"),
        ({"mode": "telephone"}, "TELEPHONE_NOT_REIMBURSED"),
        ({"care_category": "acute"}, "ACUTE_CARE"),
        ({"mode": "physical", "digital_requirements": None}, "OUTPATIENT_FREE_CHOICE"),
    ],
)
def test_ds_2023_27_needs_a_documented_assessment_for_distance_contacts(extra, reason):
    body = {k: v for k, v in extra.items() if v is not None}
    contact = _contact(**body) if "digital_requirements" not in extra else _physical()
    verdict = decide(contact, build_policy("ds_2023_27"))
    assert verdict.reason == reason
    if reason == "NEEDS_ASSESSMENT_MISSING":
        assert verdict.amount_ore == 0
        assert any("Ds 2023:27" in ref["ref"] for ref in verdict.legal_basis)
        assert "Ds 2023:27" in verdict.explanation()["en"]


def _physical():
    return parse_contact(
        {
            "contact_id": "t-2",
            "contact_date": "2020-03-02",
            "home_region": "25",
            "care_region": "06",
            "provider_id": "SYN-HSA-06-0001",
            "mode": "physical",
            "care_category": "planned",
            "profession": "physician",
            "claimed_amount_sek": "900.00",
        }
    )


def test_ds_rule_sits_after_the_digital_requirements_and_before_digital_referred():
    reasons = [rule.reason for rule in build_policy("ds_2023_27").rules]
    i = reasons.index("NEEDS_ASSESSMENT_MISSING")
    assert reasons[i - 1] == "DIGITAL_REQUIREMENTS_NOT_MET"
    assert reasons[i + 1] == "DIGITAL_REFERRED"


def test_moving_the_stop_back_adds_a_period_and_marks_the_date_assumed():
    policy = build_policy("stop_from_2020")
    periods = policy.regional["25"]
    assert [(p.valid_from, p.valid_to, p.digital_stop) for p in periods] == [
        (date(2020, 1, 1), date(2020, 6, 30), "enforce"),
        (date(2020, 7, 1), date(2021, 12, 31), "enforce"),
        (date(2022, 1, 1), None, "enforce"),
    ]
    assert periods[0].referral_specialties == frozenset()
    verdict = decide(_contact(), policy)
    assert verdict.reason == "DIGITAL_NOT_CONTRACTED"
    assert "PATIENTLAG_CONFLICT" in verdict.flags and "ASSUMED_EFFECTIVE_DATE" in verdict.flags


def test_moving_the_stop_later_splits_the_period_that_contains_the_date():
    policy = build_policy({"name": "late", "overrides": {"regions.25.digital_stop.valid_from": "2023-06-01"}})
    periods = policy.regional["25"]
    assert [(p.valid_from, p.valid_to, p.digital_stop) for p in periods] == [
        (date(2020, 7, 1), date(2021, 12, 31), "none"),
        (date(2022, 1, 1), date(2023, 5, 31), "none"),
        (date(2023, 6, 1), None, "enforce"),
    ]
    assert decide(_contact(contact_date="2023-05-31"), policy).reason == "DIGITAL_TARIFF"
    assert decide(_contact(contact_date="2023-06-01"), policy).reason == "DIGITAL_NOT_CONTRACTED"


def test_advisory_enforcement_pays_and_flags():
    policy = build_policy({"name": "adv", "overrides": {"regions.25.digital_stop.enforcement": "advisory"}})
    verdict = decide(_contact(contact_date="2022-03-01"), policy)
    assert (verdict.decision, verdict.reason) == ("pay", "DIGITAL_TARIFF")
    assert "DIGITAL_STOP_ADVISORY" in verdict.flags


def test_national_overrides():
    policy = build_policy(
        {
            "name": "phone",
            "overrides": {
                "national.telephone_reimbursed": True,
                "national.digital_tariff_sek.physician": "400.00",
            },
        }
    )
    verdict = decide(_contact(mode="telephone"), policy)
    assert (verdict.reason, verdict.amount_ore) == ("DIGITAL_TARIFF", 40000)


@pytest.mark.parametrize(
    "spec, key",
    [
        ("no_such_scenario", "scenario"),
        ({"name": "x", "overrides": {"regions.25.colour": "red"}}, "scenario.overrides.regions.25.colour"),
        (
            {"name": "x", "overrides": {"regions.02.digital_stop.enforcement": "advisory"}},
            "scenario.overrides.regions.02.digital_stop.enforcement",
        ),
        (
            {"name": "x", "overrides": {"regions.25.digital_stop.enforcement": "maybe"}},
            "scenario.overrides.regions.25.digital_stop.enforcement",
        ),
        (
            {"name": "x", "overrides": {"regions.25.digital_stop.valid_from": "2020-02-30"}},
            "scenario.overrides.regions.25.digital_stop.valid_from",
        ),
        (
            {
                "name": "x",
                "base": "national_only",
                "overrides": {"regions.25.digital_stop.enforcement": "advisory"},
            },
            "scenario.overrides.regions.25.digital_stop.enforcement",
        ),
        (
            {"name": "x", "overrides": {"national.invoice_limit_months": 0}},
            "scenario.overrides.national.invoice_limit_months",
        ),
        (
            {"name": "x", "overrides": {"national.digital_tariff_sek.physician": 400.5}},
            "scenario.overrides.national.digital_tariff_sek.physician",
        ),
        ({"name": "x", "base": "nope"}, "scenario.base"),
        ({"name": "", "overrides": {}}, "scenario.name"),
        ({"name": "x", "extra": 1}, "scenario.extra"),
    ],
)
def test_bad_scenarios_raise_a_clear_error_per_key(spec, key):
    with pytest.raises(ScenarioError) as info:
        build_policy(spec)
    assert key in info.value.errors


def test_an_override_that_breaks_the_policy_fails_the_load_checks():
    with pytest.raises(ScenarioError) as info:
        build_policy({"name": "x", "overrides": {"national.digital_tariff_sek.physician": "-5.00"}})
    assert "policy checks" in info.value.errors["scenario"][0]
