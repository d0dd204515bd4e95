"""POST /v1/verdicts and /v1/verdicts/batch through the Flask test client."""

import copy
import re
import uuid

import pytest

import rules
from api import examples
from rules.text import CONTROL_CHARACTERS_MESSAGE

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_one_contact_gets_the_engines_verdict_with_id_and_time(client, contact):
    response = client.post("/v1/verdicts", json=contact)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert uuid.UUID(body.pop("decision_id")).version == 7
    assert UTC_Z.match(body.pop("evaluated_at"))
    assert body == rules.evaluate(contact).to_dict()
    assert (body["decision"], body["reason"], body["amount_sek"]) == (
        "no_pay",
        "DIGITAL_NOT_CONTRACTED",
        "0.00",
    )
    assert "PATIENTLAG_CONFLICT" in body["flags"]


def test_response_fields_come_in_the_contract_order(client, contact):
    keys = list(client.post("/v1/verdicts", json=contact).get_json())
    assert keys[0] == "decision_id" and keys[-1] == "evaluated_at"


def test_each_verdict_gets_its_own_decision_id(client, contact):
    ids = set()
    for n in range(5):
        contact["contact_id"] = f"id-{n}"
        ids.add(client.post("/v1/verdicts", json=contact).get_json()["decision_id"])
    assert len(ids) == 5


def test_invalid_contact_is_422_problem_per_field(client, contact):
    contact["home_region"] = "02"
    contact["digital_requirements"]["triaged"] = "yes"
    contact["colour"] = "blue"
    del contact["profession"]
    response = client.post("/v1/verdicts", json=contact)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422 and problem["title"] == "Unprocessable Content"
    assert problem["instance"] == "/v1/verdicts"
    errors = problem["errors"]
    assert set(errors) == {"home_region", "digital_requirements.triaged", "colour", "profession"}
    assert errors["colour"] == ["Unknown field."]
    assert errors["profession"] == ["Missing data for required field."]


def test_control_characters_are_refused_per_field_alone_and_in_a_batch(client, contact):
    """PostgreSQL cannot store NUL in text, and a tab or newline in an id is never legitimate."""
    refused = [CONTROL_CHARACTERS_MESSAGE]
    response = client.post("/v1/verdicts", json=dict(contact, contact_id="a\x00b", provider_id="SE\t1"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"contact_id": refused, "provider_id": refused}

    lines = _lines(contact, 3)
    lines[1] = dict(lines[1], contact_id="line\n1")
    lines[2] = dict(lines[2], specialty="primary\x7fcare", patient={"sex": "female\x00"})
    body = client.post("/v1/verdicts/batch", json={"contacts": lines}).get_json()
    assert [v["contact_id"] for v in body["verdicts"]] == ["line-0"]
    assert body["rejected"] == [
        {"index": 1, "contact_id": "line\n1", "errors": {"contact_id": refused}},
        {"index": 2, "contact_id": "line-2", "errors": {"specialty": refused, "patient.sex": refused}},
    ]


@pytest.mark.parametrize("body", ["[]", "42", '"contact"', "null"])
def test_a_body_that_is_not_an_object_is_422(client, body):
    response = client.post("/v1/verdicts", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "_schema" in response.get_json()["errors"]


def test_contact_before_the_first_national_layer_is_422(client, contact):
    contact["contact_date"] = "2017-04-30"
    contact["invoice_date"] = "2017-05-15"
    response = client.post("/v1/verdicts", json=contact)
    assert response.status_code == 422
    assert "contact_date" in response.get_json()["errors"]


def test_json_with_a_charset_parameter_is_accepted(client, contact):
    import json

    response = client.post(
        "/v1/verdicts", data=json.dumps(contact), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200


# -- batch --------------------------------------------------------------------------------------


def _lines(contact, count):
    lines = []
    for n in range(count):
        line = dict(contact)
        line["contact_id"] = f"line-{n}"
        lines.append(line)
    return lines


def test_batch_with_good_and_bad_lines_loses_none(client, contact):
    lines = _lines(contact, 8)
    lines[1] = dict(lines[1], home_region="11")
    lines[3] = "not an object"
    lines[4] = None
    lines[5] = dict(lines[5], extra=True)
    lines[6] = {"contact_id": 17}
    physical = dict(examples.PHYSICAL_VISIT, contact_id="line-7")
    lines[7] = physical
    response = client.post("/v1/verdicts/batch", json={"contacts": lines})
    assert response.status_code == 200
    body = response.get_json()
    assert [v["contact_id"] for v in body["verdicts"]] == ["line-0", "line-2", "line-7"]
    rejected = {r["index"]: r for r in body["rejected"]}
    assert sorted(rejected) == [1, 3, 4, 5, 6]
    assert rejected[1]["contact_id"] == "line-1" and "home_region" in rejected[1]["errors"]
    assert rejected[3]["contact_id"] is None and "_schema" in rejected[3]["errors"]
    assert rejected[4]["contact_id"] is None
    assert rejected[5]["errors"]["extra"] == ["Unknown field."]
    assert rejected[6]["contact_id"] is None and "contact_id" in rejected[6]["errors"]
    summary = body["summary"]
    assert summary["count"] == 3 and summary["rejected"] == 5
    assert summary["pay"] == 1 and summary["no_pay"] == 2
    assert summary["amount_sek_total"] == "1850.00"
    assert summary["by_reason"] == {
        "DIGITAL_NOT_CONTRACTED": {"count": 2, "amount_sek": "0.00"},
        "OUTPATIENT_FREE_CHOICE": {"count": 1, "amount_sek": "1850.00"},
    }
    for verdict in body["verdicts"]:
        assert uuid.UUID(verdict["decision_id"]).version == 7


def test_batch_verdicts_equal_single_verdicts(client, contact):
    lines = [contact, examples.CONTRACTED_CHAT, examples.PHYSICAL_VISIT]
    body = client.post("/v1/verdicts/batch", json={"contacts": lines}).get_json()
    for line, verdict in zip(lines, body["verdicts"], strict=True):
        expected = rules.evaluate(line).to_dict()
        assert {k: v for k, v in verdict.items() if k not in ("decision_id", "evaluated_at")} == expected


def test_batch_spanning_several_chunks_keeps_order(make_app, contact):

    client = make_app(BATCH_CHUNK_LINES=3).test_client()
    lines = _lines(contact, 11)
    lines[4] = {}
    body = client.post("/v1/verdicts/batch", json={"contacts": lines}).get_json()
    assert [v["contact_id"] for v in body["verdicts"]] == [f"line-{n}" for n in range(11) if n != 4]
    assert [r["index"] for r in body["rejected"]] == [4]


@pytest.mark.parametrize("in_memory_bytes", [32 * 1024 * 1024, 2000])
def test_a_batch_response_is_whole_from_memory_and_from_its_temporary_file(
    client, contact, monkeypatch, in_memory_bytes
):
    from api.blueprints import verdicts

    monkeypatch.setattr(verdicts, "SPOOL_IN_MEMORY_BYTES", in_memory_bytes)
    monkeypatch.setattr(verdicts._ResponseSpool, "SEND_BYTES", 1000)  # several pieces from memory too
    lines = _lines(contact, 40)
    lines[7] = {}
    response = client.post("/v1/verdicts/batch", json={"contacts": lines})
    assert response.status_code == 200
    assert response.content_length == len(response.data)
    body = response.get_json()
    assert [v["contact_id"] for v in body["verdicts"]] == [f"line-{n}" for n in range(40) if n != 7]
    assert [r["index"] for r in body["rejected"]] == [7]
    assert body["summary"]["count"] == 39


def test_empty_batch_is_fine(client):
    body = client.post("/v1/verdicts/batch", json={"contacts": []}).get_json()
    assert body["verdicts"] == [] and body["rejected"] == []
    assert body["summary"]["count"] == 0 and body["summary"]["amount_sek_total"] == "0.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "_schema"),
        ({}, "contacts"),
        ({"contacts": {"a": 1}}, "contacts"),
        ({"contacts": [], "dry_run": True}, "dry_run"),
    ],
)
def test_batch_of_the_wrong_shape_is_422(client, body, field):
    response = client.post("/v1/verdicts/batch", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_batch_over_the_line_limit_is_413(make_app, contact):

    client = make_app(BATCH_MAX_LINES=5).test_client()
    assert client.post("/v1/verdicts/batch", json={"contacts": _lines(contact, 5)}).status_code == 200
    response = client.post("/v1/verdicts/batch", json={"contacts": _lines(contact, 6)})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert "at most 5 contacts" in response.get_json()["detail"]


def test_default_line_limit_is_100000(app):
    assert app.config["BATCH_MAX_LINES"] == 100_000


def test_a_chunk_of_nothing_but_bad_lines_is_listed_and_the_rest_decided(make_app, contact):
    """On PostgreSQL a chunk whose every line was rejected once failed the whole batch with a 500."""
    client = make_app(BATCH_CHUNK_LINES=3).test_client()
    response = client.post("/v1/verdicts/batch", json={"contacts": [0, 0, 0, contact]})
    assert response.status_code == 200
    body = response.get_json()
    assert [line["index"] for line in body["rejected"]] == [0, 1, 2]
    assert [verdict["contact_id"] for verdict in body["verdicts"]] == [contact["contact_id"]]


def test_a_batch_summary_counts_the_stored_decision_a_resubmitted_line_is_answered_with(client):
    """Resent after a contract made the provider contracted, an identical line is answered with its
    stored decision (no_pay): the summary counts that decision, not the pay it would get today."""
    line = dict(copy.deepcopy(examples.NORRBOTTEN_VIDEO), contact_id="summary-replay")
    first = client.post("/v1/verdicts/batch", json={"contacts": [line]}).get_json()
    assert first["verdicts"][0]["decision"] == "no_pay"
    contract = dict(
        examples.contract_example(),
        id="contract-summary-replay",
        provider_id=line["provider_id"],
        valid_from="2022-01-01",
        valid_to=None,
    )
    assert client.post("/v1/contracts", json=contract).status_code == 201
    fresh = dict(line, contact_id="summary-fresh")
    again = client.post("/v1/verdicts/batch", json={"contacts": [line, fresh]}).get_json()
    assert [v["decision"] for v in again["verdicts"]] == ["no_pay", "pay"]
    assert again["verdicts"][0]["decision_id"] == first["verdicts"][0]["decision_id"]
    summary = again["summary"]
    assert (summary["count"], summary["pay"], summary["no_pay"]) == (2, 1, 1)
    assert summary["amount_sek_total"] == again["verdicts"][1]["amount_sek"]
    assert {reason: n["count"] for reason, n in summary["by_reason"].items()} == {
        first["verdicts"][0]["reason"]: 1,
        again["verdicts"][1]["reason"]: 1,
    }
