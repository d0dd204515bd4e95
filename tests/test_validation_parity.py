"""The marshmallow ContactSchema defines the contract; rules.validation.parse_contact is its fast twin.

Both must accept and reject the same inputs, name the same fields when they reject, and read the
same values when they accept. Checked on a shared corpus (every contact of the rule cases plus
hand-picked edges) and on hypothesis-generated contacts, valid, mangled and arbitrary.
"""

import copy

import pytest
from case_files import case_contacts
from contact_strategies import json_values, mangled_contacts, valid_contacts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from rules.contact import Contact, DigitalRequirements, Patient
from rules.errors import InvalidContact
from rules.schema import ContactSchema, flatten_errors
from rules.validation import parse_contact

SCHEMA = ContactSchema()
_ATTRIBUTES = {"claimed_amount_sek": "claimed_ore", "patient_fee_sek": "patient_fee_ore"}

BASE = {
    "contact_id": "parity",
    "contact_date": "2022-06-01",
    "home_region": "25",
    "care_region": "06",
    "provider_id": "SE162321000255-K001",
    "mode": "video",
    "care_category": "planned",
    "profession": "nurse",
    "digital_requirements": {
        "qualified_care": True,
        "strong_authentication": True,
        "journaled": True,
        "triaged": True,
    },
    "claimed_amount_sek": "275.00",
}
# Edges the rule cases do not reach, each a change to BASE (None value = remove the key).
EDGES = [
    {},
    {"mode": "physical", "digital_requirements": None},
    {"mode": "physical", "digital_requirements": {}},
    {"digital_requirements": {}},
    {"digital_requirements": "yes"},
    {"digital_requirements": {"qualified_care": None}},
    {"patient": None},
    {"patient": []},
    {"patient": {}},
    {"patient": {"age": 0, "sex": "unknown"}},
    {"patient": {"age": 130}},
    {"patient": {"age": 2**70}},
    {"patient": {"age": 30.0}},
    {"specialty": "primary_care\n"},
    {"specialty": "a" * 64},
    {"specialty": "a" * 65},
    {"specialty": "9lives"},
    {"claimed_amount_sek": "100000000.00"},
    {"claimed_amount_sek": "100000000.01"},
    {"claimed_amount_sek": 1e20},
    {"claimed_amount_sek": float("nan")},
    {"claimed_amount_sek": float("inf")},
    {"claimed_amount_sek": 0.1 + 0.2},
    {"claimed_amount_sek": "0450.00"},
    {"claimed_amount_sek": ".50"},
    {"claimed_amount_sek": "450."},
    {"claimed_amount_sek": " 450.00"},
    {"claimed_amount_sek": ["450.00"]},
    {"contact_date": "2022-01-01\n"},
    {"contact_date": "２０２２-01-01"},
    {"contact_date": None, "mode": None},
    {"invoice_date": "2022-06-01"},
    {"invoice_date": "2022-05-31", "contact_date": "bad"},
    {"invoice_date": "bad", "mode": "chat", "digital_requirements": None},
    {"needs_assessment": True},
    {"needs_assessment": "no"},
    {"prior_approval": 0},
    {"referral": None},
    {"contact_id": "ü" * 64},
    {"contact_id": ["x"]},
    {"home_region": "25 "},
    {"extra": None, "another": 1},
]


def _edge(change: dict) -> dict:
    contact = copy.deepcopy(BASE)
    for key, value in change.items():
        if value is None and key in contact and key not in ("patient",):
            contact.pop(key)
        else:
            contact[key] = value
    return contact


CORPUS = case_contacts() + [_edge(change) for change in EDGES] + [[], "x", None, 42]


def _fast(data):
    try:
        return parse_contact(data), None
    except InvalidContact as exc:
        return None, exc.errors


def _schema(data):
    try:
        return SCHEMA.load(data), None
    except ValidationError as exc:
        return None, flatten_errors(exc.messages)


def _as_contact(loaded: dict) -> Contact:
    """marshmallow's loaded dict as the Contact the fast validator builds."""
    values = {_ATTRIBUTES.get(key, key): value for key, value in loaded.items()}
    if "digital_requirements" in values:
        values["digital_requirements"] = DigitalRequirements(**values["digital_requirements"])
    if "patient" in values:
        values["patient"] = Patient(**values["patient"])
    return Contact(**values)


def assert_same_verdict_on_input(data) -> None:
    fast, fast_errors = _fast(copy.deepcopy(data))
    loaded, schema_errors = _schema(copy.deepcopy(data))
    assert (fast_errors is None) == (schema_errors is None), (data, fast_errors, schema_errors)
    if fast_errors is None:
        assert fast == _as_contact(loaded), data
    else:
        assert set(fast_errors) == set(schema_errors), (data, fast_errors, schema_errors)
        assert all(messages for messages in fast_errors.values())


def test_corpus_has_both_kinds():
    accepted = sum(_fast(data)[1] is None for data in CORPUS)
    assert 50 <= accepted <= len(CORPUS) - 50


@pytest.mark.parametrize("data", CORPUS, ids=lambda data: str(data)[:60])
def test_shared_corpus(data):
    assert_same_verdict_on_input(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_contacts())
def test_generated_valid_contacts_are_accepted_by_both(data):
    assert _fast(data)[1] is None, data
    assert_same_verdict_on_input(data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_contacts())
def test_generated_mangled_contacts(data):
    assert_same_verdict_on_input(data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values(), st.dictionaries(st.text(max_size=12), json_values(), max_size=6)))
def test_generated_arbitrary_json(data):
    assert_same_verdict_on_input(data)
