"""Dates a client cannot send (SPEC section 6), as a billing system meets them, on both databases:
care not yet given (a contact_date or invoice_date after today in Stockholm) gets no verdict, and
every date the service takes in lies from 2000-01-01 to 2100-12-31."""

from datetime import timedelta

import pytest

import rules
from api import examples
from api.batch_chunks import decided_chunks
from rules.calendar import stockholm_today

PROBLEM = "application/problem+json"


def _after_today() -> str:
    """A day after today in Stockholm, still so should midnight pass while the test runs."""
    return (stockholm_today() + timedelta(days=2)).isoformat()


def _dated(contact: dict, **dates) -> dict:
    """The contact with these dates and no others (the example also has an invoice_date)."""
    contact = {key: value for key, value in contact.items() if key != "invoice_date"}
    return dict(contact, **dates)


def _errors(response, status=422) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.get_json()["errors"]


def _stored(client) -> list:
    page = client.get("/v1/decisions")
    assert page.status_code == 200
    return page.get_json()["items"]


def test_care_not_yet_given_gets_no_verdict_and_nothing_is_stored(client, contact):
    errors = _errors(client.post("/v1/verdicts", json=_dated(contact, contact_date=_after_today())))
    assert list(errors) == ["contact_date"]
    assert "Must not be after today" in errors["contact_date"][0]
    assert "care not yet given is not billed" in errors["contact_date"][0]
    assert _stored(client) == []


def test_the_year_2999_is_refused_too(client, contact):
    errors = _errors(client.post("/v1/verdicts", json=_dated(contact, contact_date="2999-01-01")))
    assert errors == {"contact_date": ["Not a date from 2000-01-01 to 2100-12-31."]}


def test_an_invoice_dated_after_today_is_refused(client, contact):
    errors = _errors(client.post("/v1/verdicts", json=dict(contact, invoice_date=_after_today())))
    assert list(errors) == ["invoice_date"]
    assert "Must not be after today" in errors["invoice_date"][0]
    assert _stored(client) == []


def test_care_given_today_or_before_is_decided(client, contact):
    today = stockholm_today().isoformat()  # a midnight passing meanwhile leaves it in the past
    response = client.post("/v1/verdicts", json=_dated(contact, contact_date=today, invoice_date=today))
    assert response.status_code == 200, response.get_json()
    assert len(_stored(client)) == 1


def test_a_batch_lists_future_lines_as_rejected_and_decides_the_rest(client, contact):
    lines = [
        dict(contact, contact_id="past"),
        _dated(contact, contact_id="future-care", contact_date=_after_today()),
        dict(contact, contact_id="future-invoice", invoice_date=_after_today()),
    ]
    response = client.post("/v1/verdicts/batch", json={"contacts": lines})
    assert response.status_code == 200
    body = response.get_json()
    assert [v["contact_id"] for v in body["verdicts"]] == ["past"]
    assert [(r["index"], r["contact_id"], list(r["errors"])) for r in body["rejected"]] == [
        (1, "future-care", ["contact_date"]),
        (2, "future-invoice", ["invoice_date"]),
    ]
    assert [item["contact_id"] for item in _stored(client)] == ["past"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_from": "0241-01-01"}, "valid_from"),
        ({"valid_from": "1999-12-31"}, "valid_from"),
        ({"valid_to": "2101-01-01"}, "valid_to"),
        ({"valid_to": "9999-12-31"}, "valid_to"),
    ],
)
def test_contract_dates_are_real_dates_from_2000_to_2100(client, change, field):
    body = dict(examples.contract_example(), **change)
    errors = _errors(client.post("/v1/contracts", json=body))
    assert errors == {field: ["Not a date from 2000-01-01 to 2100-12-31."]}
    assert client.get(f"/v1/contracts/{body['id']}").status_code == 404
    replaced = dict(examples.contract_replacement_example(), **change)
    assert list(_errors(client.put("/v1/contracts/contract-25-other", json=replaced))) == [field]


def test_contract_dates_on_the_bounds_are_taken(client):
    body = dict(examples.contract_example(), valid_from="2000-01-01", valid_to="2100-12-31")
    response = client.post("/v1/contracts", json=body)
    assert response.status_code == 201, response.get_json()
    stored = response.get_json()
    assert (stored["valid_from"], stored["valid_to"]) == ("2000-01-01", "2100-12-31")


@pytest.mark.parametrize(
    "query",
    [
        "contact_date_from=0241-01-01",
        "contact_date_to=2101-01-01",
        "evaluated_from=0241-01-01T00:00:00Z",
        "evaluated_to=9999-12-31T23:59:59-14:00",
        "evaluated_from=1999-12-31T23:59:59%2B00:00",
    ],
)
def test_decision_query_dates_are_bounded(client, query):
    errors = _errors(client.get(f"/v1/decisions?{query}"))
    assert errors == {query.split("=")[0]: ["Not a date from 2000-01-01 to 2100-12-31."]}


def test_decision_query_dates_on_the_bounds_are_taken(client):
    query = (
        "contact_date_from=2000-01-01&contact_date_to=2100-12-31"
        "&evaluated_from=2000-01-01T00:00:00Z&evaluated_to=2100-12-31T23:59:59Z"
    )
    assert client.get(f"/v1/decisions?{query}").status_code == 200


def test_the_policy_on_a_day_out_of_bounds_is_422(client):
    assert list(_errors(client.get("/v1/policies?home_region=25&on=0241-03-01"))) == ["on"]


def test_the_document_states_the_bounds_and_the_rule(client):
    spec = client.get("/openapi.json").get_json()
    contact = spec["components"]["schemas"]["Contact"]["properties"]
    assert "from 2000-01-01 to 2100-12-31" in contact["contact_date"]["description"]
    assert "Not after today (the date in Europe/Stockholm)" in contact["contact_date"]["description"]
    assert "Not after today (the date in Europe/Stockholm)" in contact["invoice_date"]["description"]
    parameters = {p["name"]: p for p in spec["paths"]["/v1/decisions"]["get"]["parameters"]}
    for name in ("contact_date_from", "contact_date_to", "evaluated_from", "evaluated_to"):
        assert "2000-01-01 to 2100-12-31" in parameters[name]["description"], name
    contract = spec["components"]["schemas"]["ContractBody"]["properties"]
    assert "from 2000-01-01 to 2100-12-31" in contract["valid_from"]["description"]


@pytest.mark.parametrize(
    ("evaluated_at", "decided"),
    [("2022-06-10T21:59:59.000000Z", False), ("2022-06-10T22:00:00.000000Z", True)],
)
def test_a_batch_judges_its_lines_on_the_stockholm_date_of_its_evaluated_at(contact, evaluated_at, decided):
    """22:00 UTC on 10 June is midnight in Stockholm: from then on, 11 June is today."""
    line = _dated(contact, contact_id="june-11", contact_date="2022-06-11")
    (chunk,) = decided_chunks([line], 10, rules.default_policy(), evaluated_at, "test", None)
    assert (len(chunk.entries), len(chunk.rejected)) == ((1, 0) if decided else (0, 1))
