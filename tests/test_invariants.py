"""Property tests for the invariants at the end of SPEC section 4 and the amounts of section 5.

Contacts are generated over every enum, region, date 2017-05-01..2026-12-31 and amount
(tests/contact_strategies.py). Besides the stated invariants, every verdict is compared with a
plain reading of SPEC sections 3-5 for the shipped policy, written here independently of the
policy files and the rule compiler.
"""

import calendar
import json
from datetime import date

from contact_strategies import json_values, mangled_contacts, valid_contacts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rules

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POLICY = rules.default_policy()
SECOND_LOAD = rules.load_policy()  # the same files loaded again: verdicts must not differ

# Reasons that refuse a contact for being inpatient without approval, unreferred, digital or
# uncontracted: acute and maternity care out of county must never get them (SPEC 4, invariants).
NEVER_FOR_ACUTE_OR_MATERNITY = {
    "INPATIENT_NOT_APPROVED",
    "REFERRAL_MISSING",
    "TELEPHONE_NOT_REIMBURSED",
    "DIGITAL_REQUIREMENTS_NOT_MET",
    "DIGITAL_NOT_CONTRACTED",
}
REMOTE = {"video", "chat", "telephone"}


def _ore(amount) -> int:
    text = amount if isinstance(amount, str) else f"{amount:.2f}"
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac.ljust(2, "0") or 0)


def _deadline(day: date, months: int = 6) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _tariff_ore(profession: str, day: date) -> int:
    """SPEC section 3, national digital tariffs."""
    if day < date(2019, 10, 1):
        table, other = {"physician": 650, "psychologist": 600}, 300
    else:
        table = {"physician": 500, "psychologist": 425, "counsellor": 425, "psychotherapist": 425}
        other = 275
    return table.get(profession, other) * 100


def _contract_tariff_ore(contact: dict, day: date) -> tuple[bool, int | None]:
    """The fictitious sample contract of the shipped policy (SPEC section 3)."""
    contracted = (
        contact["home_region"] == "25"
        and contact["provider_id"] == "SE2321000230-SAMPLE1"
        and date(2022, 1, 1) <= day <= date(2024, 12, 31)
    )
    tariff = {"physician": 45000, "nurse": 25000}.get(contact["profession"])
    return contracted, tariff


def expected_by_spec(contact: dict) -> tuple[str, str, int, int | None]:
    """(decision, reason, amount öre, cap öre) by SPEC sections 4 and 5, for the shipped policy."""
    day = date.fromisoformat(contact["contact_date"])
    invoice = contact.get("invoice_date")
    norrbotten = contact["home_region"] == "25"
    mode, category = contact["mode"], contact["care_category"]
    referral = contact.get("referral", "none")
    referred = referral == "home_region_referral"
    inpatient = contact.get("setting", "outpatient") == "inpatient"
    approved = contact.get("prior_approval", False)
    requirements = contact.get("digital_requirements") or {}
    contracted, contract_tariff = _contract_tariff_ore(contact, day)
    referral_rule = norrbotten and day >= date(2020, 7, 1)
    stop = norrbotten and day >= date(2022, 1, 1)

    if contact["home_region"] == contact["care_region"]:
        return "no_pay", "IN_REGION", 0, None
    if invoice is not None and date.fromisoformat(invoice) > _deadline(day):
        return "no_pay", "INVOICE_TIME_BARRED", 0, None
    if contracted:
        reason = "CONTRACTED_PROVIDER"
    elif category == "acute":
        reason = "ACUTE_CARE"
    elif category == "maternity":
        reason = "MATERNITY_CARE"
    elif inpatient and not approved:
        return "no_pay", "INPATIENT_NOT_APPROVED", 0, None
    elif inpatient:
        reason = "INPATIENT_APPROVED"
    elif referral_rule and contact.get("specialty") == "neuropsychiatric_assessment" and not referred:
        return "no_pay", "REFERRAL_MISSING", 0, None
    elif mode == "physical":
        reason = "OUTPATIENT_FREE_CHOICE"
    elif mode == "telephone":
        return "no_pay", "TELEPHONE_NOT_REIMBURSED", 0, None
    elif not all(
        requirements.get(name) for name in ("qualified_care", "strong_authentication", "journaled", "triaged")
    ):
        return "no_pay", "DIGITAL_REQUIREMENTS_NOT_MET", 0, None
    elif referred:
        reason = "DIGITAL_REFERRED"
    elif stop:
        return "no_pay", "DIGITAL_NOT_CONTRACTED", 0, None
    else:
        reason = "DIGITAL_TARIFF"

    claimed = _ore(contact["claimed_amount_sek"])
    fee = _ore(contact.get("patient_fee_sek", "0"))
    if reason == "CONTRACTED_PROVIDER":
        tariff = contract_tariff
    elif mode in REMOTE:
        tariff = _tariff_ore(contact["profession"], day)
    else:
        tariff = None
    if tariff is None:
        return "pay", reason, claimed, None
    cap = max(tariff - fee, 0)
    return "pay", reason, min(claimed, cap), cap


@SETTINGS
@given(valid_contacts())
def test_verdict_follows_spec(contact):
    verdict = rules.evaluate(contact)
    decision, reason, amount, cap = expected_by_spec(contact)
    assert (verdict.decision, verdict.reason) == (decision, reason)
    assert (verdict.amount_ore, verdict.cap_ore) == (amount, cap)


@SETTINGS
@given(valid_contacts())
def test_invariants_of_section_4(contact):
    verdict = rules.evaluate(contact)
    body = verdict.to_dict()
    claimed = verdict.contact.claimed_ore
    out_of_county = contact["home_region"] != contact["care_region"]

    if contact["care_category"] in ("acute", "maternity") and out_of_county:
        assert verdict.reason not in NEVER_FOR_ACUTE_OR_MATERNITY
        assert verdict.decision == "pay" or verdict.reason == "INVOICE_TIME_BARRED"
    if not out_of_county:
        assert (verdict.decision, verdict.reason) == ("no_pay", "IN_REGION")
    if verdict.decision == "no_pay":
        assert body["amount_sek"] == "0.00"
        assert body["cap_sek"] is None
    assert 0 <= verdict.amount_ore <= claimed
    if verdict.cap_ore is not None:
        assert verdict.amount_ore <= verdict.cap_ore
    assert ("CLAIM_EXCEEDS_TARIFF" in verdict.flags) == (
        verdict.cap_ore is not None and verdict.cap_ore < claimed
    )
    assert ("PATIENTLAG_CONFLICT" in verdict.flags) == (verdict.reason == "DIGITAL_NOT_CONTRACTED")
    assert len(set(verdict.flags)) == len(verdict.flags)


@SETTINGS
@given(valid_contacts())
def test_same_input_same_verdict(contact):
    first = rules.evaluate(contact).to_dict()
    assert rules.evaluate(dict(contact)).to_dict() == first
    assert rules.evaluate(contact, SECOND_LOAD).to_dict() == first


@SETTINGS
@given(valid_contacts())
def test_trace_ends_with_applied_rule_in_policy_order(contact):
    verdict = rules.evaluate(contact)
    trace = verdict.to_dict()["trace"]
    order = [rule.reason for rule in POLICY.rules]
    assert [step["rule"] for step in trace] == order[: len(trace)]
    assert trace[-1] == {"rule": verdict.reason, "outcome": "applied"}
    assert all(step["outcome"] == "not_applicable" for step in trace[:-1])


@SETTINGS
@given(valid_contacts())
def test_verdict_round_trips_through_json(contact):
    body = rules.evaluate(contact).to_dict()
    assert json.loads(json.dumps(body, ensure_ascii=False)) == body
    assert isinstance(body["amount_sek"], str)
    assert body["explanation"]["sv"] and body["explanation"]["en"]
    assert "{" not in body["explanation"]["sv"] + body["explanation"]["en"]  # every placeholder filled


@SETTINGS
@given(
    st.one_of(
        mangled_contacts(), json_values(), st.dictionaries(st.text(max_size=12), json_values(), max_size=8)
    )
)
def test_any_input_gives_a_verdict_or_invalid_contact(data):
    try:
        verdict = rules.evaluate(data)
    except rules.InvalidContact as exc:
        assert exc.errors and all(isinstance(messages, list) and messages for messages in exc.errors.values())
    else:
        json.dumps(verdict.to_dict())


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(valid_contacts(), mangled_contacts()), max_size=8))
def test_evaluate_many_keeps_order_and_matches_evaluate(contacts):
    results = list(rules.evaluate_many(contacts))
    assert len(results) == len(contacts)
    for data, result in zip(contacts, results, strict=True):
        try:
            single = rules.evaluate(data)
        except rules.InvalidContact as exc:
            assert isinstance(result, rules.InvalidContact)
            assert result.errors == exc.errors
        else:
            assert result.to_dict() == single.to_dict()
