"""The contact as billing systems send it (SPEC section 6): what is refused and how it is told, the
defaults, the rules across fields, and the OpenAPI document describing what the engine accepts.

rules/cases/20_bad_input.yaml holds the data-driven cases of bad input (which fields are named);
these tests pin the messages, control characters, the marshmallow schema and the document.
"""

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from contact_strategies import valid_contacts
from hypothesis import HealthCheck, given, settings
from marshmallow import Schema, ValidationError, fields
from openapi_schema_validator import OAS30Validator

import rules
from rules.calendar import LAST_DAY, stockholm_today
from rules.contact_fields import CONTACT
from rules.json_numbers import loads
from rules.schema import ContactSchema, PatientSchema, no_control_characters
from rules.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from rules.vocabulary import CARE_CATEGORIES, MODES, PROFESSIONS, REFERRALS, SETTINGS, SEXES

ROOT = Path(__file__).resolve().parents[1]
ALL_MET = {"qualified_care": True, "strong_authentication": True, "journaled": True, "triaged": True}
LINE = {
    "contact_id": "L-1",
    "contact_date": "2022-06-01",
    "home_region": "25",
    "care_region": "06",
    "provider_id": "SE162321000255-K001",
    "mode": "video",
    "care_category": "planned",
    "profession": "nurse",
    "claimed_amount_sek": "275.00",
    "digital_requirements": ALL_MET,
}
REQUIRED = [
    "contact_id",
    "contact_date",
    "home_region",
    "care_region",
    "provider_id",
    "mode",
    "care_category",
    "profession",
    "claimed_amount_sek",
]


def errors_of(data, today=None) -> dict:
    with pytest.raises(rules.InvalidContact) as caught:
        rules.parse_contact(data, today)
    return caught.value.errors


def changed(**changes) -> dict:
    return {**LINE, **changes}


def without(*names) -> dict:
    return {key: value for key, value in LINE.items() if key not in names}


# -- what is refused, and the message -------------------------------------------------------------


def test_every_missing_required_field_is_named():
    assert errors_of({}) == {name: ["Missing data for required field."] for name in REQUIRED}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"setting": None}, {"setting": ["Field may not be null."]}),
        ({"cost_center": "4711"}, {"cost_center": ["Unknown field."]}),
        ({"contact_id": ""}, {"contact_id": ["Length must be between 1 and 64."]}),
        ({"contact_id": 7}, {"contact_id": ["Not a valid string."]}),
        ({"mode": "Video"}, {"mode": ["Must be one of: physical, video, chat, telephone."]}),
        (
            {"home_region": "02"},
            {"home_region": ["Not a region code in use: '02' (01, 03-10, 12-14, 17-25)."]},
        ),
        (
            {"home_region": 25},
            {"home_region": ['Not a valid string: region codes are strings such as "25".']},
        ),
        ({"prior_approval": 1}, {"prior_approval": ["Not a valid boolean: use true or false."]}),
        ({"contact_date": "20220601"}, {"contact_date": ["Not a valid date: use YYYY-MM-DD."]}),
        (
            {"specialty": "Primary Care"},
            {"specialty": ["Not a valid slug: lower-case letters, digits and _, e.g. primary_care."]},
        ),
        (
            {"claimed_amount_sek": "1e3"},
            {"claimed_amount_sek": ['Not a non-negative amount with at most 2 decimals, e.g. "450.00".']},
        ),
        ({"patient_fee_sek": 0.125}, {"patient_fee_sek": ["At most 2 decimals."]}),
        (
            {"patient": {"age": 131}},
            {"patient.age": ["Must be greater than or equal to 0 and less than or equal to 130."]},
        ),
        ({"patient": {"age": 40.0}}, {"patient.age": ["Not a valid integer."]}),
        ({"patient": {"sex": "f"}}, {"patient.sex": ["Must be one of: female, male, other, unknown."]}),
        ({"patient": {"personnummer": "19121212-1212"}}, {"patient.personnummer": ["Unknown field."]}),
        ({"patient": None}, {"patient": ["Field may not be null."]}),
        (
            {"digital_requirements": [True] * 4},
            {"digital_requirements": ["Invalid input type: expected a JSON object."]},
        ),
        (
            {
                "digital_requirements": {
                    "qualified_care": True,
                    "journaled": "yes",
                    "triaged": True,
                    "extra": True,
                }
            },
            {
                "digital_requirements.journaled": ["Not a valid boolean: use true or false."],
                "digital_requirements.extra": ["Unknown field."],
                "digital_requirements.strong_authentication": ["Missing data for required field."],
            },
        ),
    ],
    ids=lambda value: str(value)[:50],
)
def test_a_bad_value_is_told_on_its_field(change, expected):
    assert errors_of(changed(**change)) == expected


@pytest.mark.parametrize("data", [[LINE], "contact_id=L-1", None, 42])
def test_not_an_object(data):
    assert errors_of(data) == {"_schema": ["Invalid input type: expected a JSON object."]}


def test_every_error_is_told_at_once():
    data = changed(home_region="02", mode="chat", claimed_amount_sek="-3", extra=1, invoice_date="2022-05-31")
    del data["digital_requirements"]
    assert set(errors_of(data)) == {
        "home_region",
        "claimed_amount_sek",
        "extra",
        "digital_requirements",
        "invoice_date",
    }


@pytest.mark.parametrize("bad", [1, 0, 1.0, "true"])
def test_booleans_are_true_or_false_even_after_a_valid_line(bad):
    rules.parse_contact(LINE)  # a line with the same requirements, all true, seen just before
    assert set(errors_of(changed(digital_requirements={**ALL_MET, "triaged": bad}))) == {
        "digital_requirements.triaged"
    }


@pytest.mark.parametrize("age", [34.0, True, "34"])
def test_an_age_equal_to_a_valid_one_but_not_an_integer_is_refused(age):
    rules.parse_contact(changed(patient={"age": 34, "sex": "female"}))
    assert set(errors_of(changed(patient={"age": age, "sex": "female"}))) == {"patient.age"}
    assert set(errors_of(changed(patient={"age": 1 if age is True else 34, "sex": "female", "x": 1}))) == {
        "patient.x"
    }


# -- control characters ----------------------------------------------------------------------------

# Every string field, nested ones included, with a valid value to spoil.
STRING_FIELDS = {
    "contact_id": "L-1",
    "provider_id": "SE162321000255-K001",
    "specialty": "primary_care",
    "contact_date": "2022-06-01",
    "invoice_date": "2022-06-02",
    "home_region": "25",
    "care_region": "06",
    "mode": "video",
    "care_category": "planned",
    "setting": "outpatient",
    "profession": "nurse",
    "referral": "none",
    "claimed_amount_sek": "275.00",
    "patient_fee_sek": "0.00",
    "patient.sex": "female",
}


@pytest.mark.parametrize("control", ["\x00", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f"], ids=repr)
@pytest.mark.parametrize("path", STRING_FIELDS)
def test_a_control_character_in_any_string_field_is_refused_on_that_field(path, control):
    spoiled = STRING_FIELDS[path][:2] + control + STRING_FIELDS[path][2:]
    if path == "patient.sex":
        data = changed(patient={"age": 40, "sex": spoiled})
    else:
        data = changed(**{path: spoiled})
    assert errors_of(data) == {path: [CONTROL_CHARACTERS_MESSAGE]}


def test_other_schemas_can_apply_the_same_rule():
    class Named(Schema):
        name = fields.String(validate=no_control_characters)

    assert Named().load({"name": "Region Norrbotten"}) == {"name": "Region Norrbotten"}
    assert Named().validate({"name": "Norr\x00botten"}) == {"name": [CONTROL_CHARACTERS_MESSAGE]}


def test_other_unusual_characters_are_not_control_characters():
    for text in ("\x80\x9f", "no\u00a0break", "zero\u200bwidth", "åäö", "🦷", " "):
        assert not has_control_characters(text)
        assert rules.parse_contact(changed(contact_id=text)).contact_id == text
    assert [has_control_characters(chr(n)) for n in (0x00, 0x1F, 0x20, 0x7E, 0x7F)] == [
        True,
        True,
        False,
        False,
        True,
    ]


# -- defaults and rules across fields --------------------------------------------------------------


def test_optional_fields_not_sent_take_their_defaults():
    contact = rules.parse_contact(without("digital_requirements") | {"mode": "physical"})
    assert (contact.setting, contact.referral, contact.prior_approval, contact.patient_fee_ore) == (
        "outpatient",
        "none",
        False,
        0,
    )
    assert contact.specialty is contact.digital_requirements is contact.invoice_date is None
    assert contact.patient is contact.needs_assessment is None


@pytest.mark.parametrize("mode", ["video", "chat", "telephone"])
def test_remote_modes_need_digital_requirements(mode):
    assert errors_of(without("digital_requirements") | {"mode": mode}) == {
        "digital_requirements": [
            "Missing data for required field. It is required for video, chat and telephone."
        ]
    }


def test_physical_care_may_send_digital_requirements_or_not():
    assert rules.parse_contact(without("digital_requirements") | {"mode": "physical"})
    assert rules.parse_contact(changed(mode="physical")).digital_requirements.all_met


def test_invoice_date_not_before_contact_date():
    assert rules.parse_contact(changed(invoice_date="2022-06-01")).invoice_date.isoformat() == "2022-06-01"
    assert errors_of(changed(invoice_date="2022-05-31")) == {
        "invoice_date": ["Must not be before contact_date."]
    }
    # No comparison with a contact_date that is itself refused.
    assert set(errors_of(changed(invoice_date="2022-05-31", contact_date="bad"))) == {"contact_date"}


DAY = date(2022, 6, 10)  # the day a contact is judged on, given explicitly (rules.parse_contact)


def test_no_contact_date_after_the_day_it_is_judged_on():
    assert rules.parse_contact(changed(contact_date="2022-06-10"), DAY).contact_date == DAY
    assert rules.evaluate(changed(contact_date="2022-06-10"), today=DAY).decision
    assert errors_of(changed(contact_date="2022-06-11"), DAY) == {
        "contact_date": ["Must not be after today (2022-06-10 in Sweden): care not yet given is not billed."]
    }


def test_no_invoice_date_after_the_day_it_is_judged_on():
    assert rules.parse_contact(changed(invoice_date="2022-06-10"), DAY).invoice_date == DAY
    assert errors_of(changed(invoice_date="2022-06-11"), DAY) == {
        "invoice_date": ["Must not be after today (2022-06-10 in Sweden): an invoice is not dated ahead."]
    }
    # Before a contact dated after today: both rules are told.
    assert errors_of(changed(contact_date="2022-06-20", invoice_date="2022-06-15"), DAY) == {
        "contact_date": ["Must not be after today (2022-06-10 in Sweden): care not yet given is not billed."],
        "invoice_date": [
            "Must not be before contact_date.",
            "Must not be after today (2022-06-10 in Sweden): an invoice is not dated ahead.",
        ],
    }


def test_without_a_day_given_contacts_are_judged_on_today_in_stockholm():
    today = stockholm_today()  # should midnight pass now, `today` is still not in the future
    assert rules.parse_contact(changed(contact_date=today.isoformat())).contact_date == today
    later = (today + timedelta(days=2)).isoformat()
    assert set(errors_of(changed(contact_date=later))) == {"contact_date"}
    assert set(errors_of(changed(invoice_date=later))) == {"invoice_date"}
    with pytest.raises(rules.InvalidContact):
        rules.evaluate(changed(contact_date=later))
    assert [type(r) for r in rules.evaluate_many([changed(contact_date=later), LINE])] == [
        rules.InvalidContact,
        rules.Verdict,
    ]


def test_judged_on_the_last_day_a_date_may_hold_any_year_is_taken():
    """As simulations judge (rules/simulation/simulate.py): a forecast of a future year."""
    assert rules.parse_contact(changed(contact_date="2100-12-31"), LAST_DAY).contact_date == LAST_DAY


# -- the marshmallow schema and the OpenAPI document ------------------------------------------------


def test_loading_through_the_schema_gives_the_engines_answer():
    assert ContactSchema().load(LINE) == rules.parse_contact(LINE)
    bad = changed(mode="fax", patient={"age": -1})
    with pytest.raises(ValidationError) as caught:
        ContactSchema().load(bad)
    assert caught.value.messages == errors_of(bad)
    assert ContactSchema().validate(LINE) == {}
    assert PatientSchema().load({"age": 40}) == rules.parse_contact(changed(patient={"age": 40})).patient


@cache
def _documented() -> dict:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))["components"]["schemas"]


def test_the_document_states_the_contract():
    schemas = _documented()
    contact = schemas["Contact"]
    assert contact["additionalProperties"] is False
    assert sorted(contact["required"]) == sorted(REQUIRED)
    assert set(contact["properties"]) == {field.name for field in CONTACT.fields}
    enums = {name: prop["enum"] for name, prop in contact["properties"].items() if "enum" in prop}
    assert enums == {
        "mode": list(MODES),
        "care_category": list(CARE_CATEGORIES),
        "setting": list(SETTINGS),
        "profession": list(PROFESSIONS),
        "referral": list(REFERRALS),
        "home_region": enums["care_region"],
        "care_region": ["01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13", "14"]
        + ["17", "18", "19", "20", "21", "22", "23", "24", "25"],
    }
    assert schemas["Patient"]["properties"]["sex"]["enum"] == list(SEXES)
    assert sorted(schemas["DigitalRequirements"]["required"]) == sorted(ALL_MET)
    assert "video, chat or telephone" in contact["properties"]["digital_requirements"]["description"]


def test_documented_defaults_are_the_ones_applied():
    documented = {
        name: prop["default"]
        for name, prop in _documented()["Contact"]["properties"].items()
        if "default" in prop
    }
    applied = rules.parse_contact(without("digital_requirements") | {"mode": "physical"}).to_dict()
    assert documented == {name: applied[name] for name in documented}
    assert set(documented) == {"setting", "referral", "prior_approval", "patient_fee_sek"}


@cache
def _document_validator() -> OAS30Validator:
    return OAS30Validator({"$ref": "#/components/schemas/Contact", "components": {"schemas": _documented()}})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_contacts())
def test_what_the_engine_accepts_the_document_accepts(data):
    rules.parse_contact(data)
    assert [error.message for error in _document_validator().iter_errors(data)] == []


@pytest.mark.parametrize(
    "change",
    [
        {"contact_id": "a\x00b"},
        {"provider_id": "tab\there"},
        {"contact_id": "x" * 65},
        {"mode": "fax"},
        {"home_region": "02"},
        {"claimed_amount_sek": "450,00"},
        {"claimed_amount_sek": -1},
        {"patient": {"age": 131}},
        {"digital_requirements": {"qualified_care": True}},
        {"extra": 1},
    ],
    ids=lambda value: str(value)[:40],
)
def test_what_the_document_refuses_the_engine_refuses(change):
    data = changed(**change)
    assert list(_document_validator().iter_errors(data))
    assert errors_of(data)


def _read(amount_text: str, field: str = "claimed_amount_sek") -> dict:
    """LINE as a client's JSON text with the amount written as a JSON number, read as the API reads it."""
    return loads(json.dumps({**LINE, field: "AMOUNT"}).replace('"AMOUNT"', amount_text))


@pytest.mark.parametrize(("text", "ore"), [("500", 50000), ("499.5", 49950), ("450.00", 45000), ("0.05", 5)])
@pytest.mark.parametrize("field", ["claimed_amount_sek", "patient_fee_sek"])
def test_a_json_number_with_at_most_2_decimals_and_no_exponent_is_an_amount(text, ore, field):
    data = _read(text, field)
    contact = rules.parse_contact(data)
    assert (contact.claimed_ore if field == "claimed_amount_sek" else contact.patient_fee_ore) == ore
    assert [error.message for error in _document_validator().iter_errors(data)] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("500.0000000000000001", "At most 2 decimals."),
        ("0.30000000000000001", "At most 2 decimals."),
        ("450.000", "At most 2 decimals."),
        ("1e-400", 'No exponent: write the amount as it is, e.g. 450.00 or "450.00" (never rounded).'),
        ("5E2", 'No exponent: write the amount as it is, e.g. 450.00 or "450.00" (never rounded).'),
        ("4.5e2", 'No exponent: write the amount as it is, e.g. 450.00 or "450.00" (never rounded).'),
        ("-0.5", "Must be greater than or equal to 0."),
        ("100000000.01", "Must be at most 100000000.00."),
    ],
)
@pytest.mark.parametrize("field", ["claimed_amount_sek", "patient_fee_sek"])
def test_a_json_number_is_refused_on_its_field_as_written_never_rounded(text, message, field):
    assert errors_of(_read(text, field)) == {field: [message]}


@pytest.mark.parametrize("text", ["40.0", "4e1", "40.5"])
def test_an_age_written_with_a_fraction_or_exponent_is_still_not_an_integer(text):
    data = loads(json.dumps(changed(patient={"age": "AGE"})).replace('"AGE"', text))
    assert errors_of(data) == {"patient.age": ["Not a valid integer."]}


def test_the_document_says_an_amount_is_a_string_or_a_number_written_with_at_most_2_decimals():
    schemas = _documented()
    for money in (
        schemas["Contact"]["properties"]["claimed_amount_sek"],
        schemas["Contact"]["properties"]["patient_fee_sek"],
        *schemas["Tariff"]["properties"].values(),
    ):
        assert sorted(choice["type"] for choice in money["anyOf"]) == ["number", "string"]
        assert "at most 2 decimals as written, no exponent" in money["description"]
