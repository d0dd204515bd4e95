"""The memoised fast paths in rules/validation.py must answer exactly as the full checks: values that
compare equal across types (1 == True, 34.0 == 34) must not hit a cached valid object."""

import contact_strategies
import pytest
from case_files import case_contacts
from hypothesis import HealthCheck, given, settings

import rules
from rules.validation import _checked, _well_formed, parse_contact

BASE = {
    "contact_id": "f1",
    "contact_date": "2021-03-01",
    "home_region": "25",
    "care_region": "06",
    "provider_id": "SE1",
    "mode": "video",
    "care_category": "planned",
    "profession": "physician",
    "claimed_amount_sek": "500.00",
    "digital_requirements": {
        "qualified_care": True,
        "strong_authentication": True,
        "journaled": True,
        "triaged": True,
    },
    "patient": {"age": 34, "sex": "female"},
}


def errors_of(**changes) -> dict:
    with pytest.raises(rules.InvalidContact) as caught:
        parse_contact({**BASE, **changes})
    return caught.value.errors


def test_valid_objects_are_shared_and_equal():
    first, second = parse_contact(BASE), parse_contact(dict(BASE))
    assert first == second
    assert first.patient.age == 34 and first.digital_requirements.all_met


@pytest.mark.parametrize("bad", [1, 0, "true", None])
def test_digital_requirements_take_only_booleans_after_caching(bad):
    parse_contact(BASE)  # warm the cache with the all-true object
    requirements = {**BASE["digital_requirements"], "triaged": bad}
    assert set(errors_of(digital_requirements=requirements)) == {"digital_requirements.triaged"}


def test_digital_requirements_unknown_or_missing_keys_still_reported():
    four_with_unknown = {
        "qualified_care": True,
        "strong_authentication": True,
        "journaled": True,
        "extra": True,
    }
    assert set(errors_of(digital_requirements=four_with_unknown)) == {
        "digital_requirements.extra",
        "digital_requirements.triaged",
    }


@pytest.mark.parametrize("age", [34.0, True, "34", -1, 131, None])
def test_patient_age_equal_but_wrong_type_or_range_is_rejected_after_caching(age):
    parse_contact(BASE)  # caches (34, "female")
    assert set(errors_of(patient={"age": age, "sex": "female"})) == {"patient.age"}


def test_patient_sex_outside_vocabulary_and_unknown_keys():
    assert set(errors_of(patient={"age": 34, "sex": "f"})) == {"patient.sex"}
    assert set(errors_of(patient={"age": 34, "weight": 70})) == {"patient.weight"}
    assert parse_contact({**BASE, "patient": {"sex": "male"}}).patient.age is None


@pytest.mark.parametrize("date", ["2021-3-01", "20210301", "2021-02-30", ""])
def test_memoised_dates_and_amounts_still_reject(date):
    parse_contact(BASE)
    assert set(errors_of(contact_date=date)) == {"contact_date"}
    assert set(errors_of(claimed_amount_sek="500.001")) == {"claimed_amount_sek"}
    assert parse_contact({**BASE, "claimed_amount_sek": 500.5}).claimed_ore == 50050



# The straight-through path for well-formed contacts must agree with the full check: whatever it
# accepts, the full check accepts with the same Contact; whatever the full check rejects, it sends
# on (returns None). Run over the shared corpus: case files, hand-picked edges and hypothesis.
def _agree(data) -> bool:
    quick = _well_formed(data) if type(data) is dict else None
    try:
        full = _checked(data)
    except rules.InvalidContact:
        assert quick is None, f"fast path accepted what the full check rejects: {data!r}"
        return False
    if quick is not None:
        assert quick == full
    return quick is not None


def test_fast_path_agrees_with_full_check_on_case_corpus():
    contacts = case_contacts()
    assert len(contacts) > 100
    taken = sum(_agree(data) for data in contacts)
    assert taken > 50  # the fast path really is the one taken for well-formed lines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contact_strategies.mangled_contacts())
def test_fast_path_agrees_with_full_check_on_mangled_contacts(data):
    _agree(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contact_strategies.valid_contacts())
def test_fast_path_takes_valid_contacts(data):
    assert _agree(data)
