"""Money in a JSON body is taken as written: a JSON number is an amount only when its text has at
most 2 decimals and no exponent; anything else is a 422 naming the field and nothing is decided or
stored. A float parse used to make 500.0000000000000001 into 500.0, 1e-400 into 0.0 and
0.30000000000000001 into 0.3, and the service decided and stored those. Bodies are sent as the JSON
text a client writes, on SQLite and PostgreSQL (the test client), and through gunicorn."""

import copy
import json
import urllib.error
import urllib.request

import pytest

from api import examples

PROBLEM = "application/problem+json"
NO_EXPONENT = 'No exponent: write the amount as it is, e.g. 450.00 or "450.00" (never rounded).'
REFUSED = {
    "500.0000000000000001": "At most 2 decimals.",
    "0.30000000000000001": "At most 2 decimals.",
    "1e-400": NO_EXPONENT,
    "5E2": NO_EXPONENT,
    "-0.5": "Must be greater than or equal to 0.",
}
ACCEPTED = {"500": "500.00", "499.5": "499.50", "450.00": "450.00"}


def _written(document, **amounts) -> str:
    """`document` as JSON text with each named field's value written as the given JSON number."""
    document = copy.deepcopy(document)
    for field in amounts:
        document[field] = f"@{field}@"
    text = json.dumps(document)
    for field, number in amounts.items():
        text = text.replace(f'"@{field}@"', number)
    return text


def _contact(contact_id: str) -> dict:
    # A physical visit is paid the claimed amount, so the amount decided shows what was read.
    return dict(copy.deepcopy(examples.PHYSICAL_VISIT), contact_id=contact_id)


def _post(client, path: str, text: str):
    return client.post(path, data=text, content_type="application/json")


@pytest.mark.parametrize("field", ["claimed_amount_sek", "patient_fee_sek"])
@pytest.mark.parametrize("number", list(REFUSED))
def test_a_verdict_with_an_amount_a_float_would_round_is_422_on_the_field_and_not_stored(
    client, field, number
):
    response = _post(client, "/v1/verdicts", _written(_contact("money-1"), **{field: number}))
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"] == {field: [REFUSED[number]]}
    assert client.get("/v1/decisions?contact_id=money-1").get_json()["items"] == []


@pytest.mark.parametrize("number", list(ACCEPTED))
def test_an_amount_written_as_a_json_number_with_at_most_2_decimals_is_decided_exactly(client, number):
    response = _post(client, "/v1/verdicts", _written(_contact("money-2"), claimed_amount_sek=number))
    assert response.status_code == 200
    verdict = response.get_json()
    assert verdict["decision"] == "pay" and verdict["amount_sek"] == ACCEPTED[number]
    stored = client.get(f"/v1/decisions/{verdict['decision_id']}").get_json()
    assert stored["contact"]["claimed_amount_sek"] == float(number)
    # Sent again, it is the same submission: the stored decision comes back.
    again = _post(client, "/v1/verdicts", _written(_contact("money-2"), claimed_amount_sek=number))
    assert again.get_json()["decision_id"] == verdict["decision_id"]


def test_numbers_are_compared_by_value_when_a_contact_is_sent_again(client):
    first = _post(client, "/v1/verdicts", _written(_contact("money-3"), claimed_amount_sek="450.00"))
    again = _post(client, "/v1/verdicts", _written(_contact("money-3"), claimed_amount_sek="450.0"))
    assert again.get_json()["decision_id"] == first.get_json()["decision_id"]


def test_a_stored_contact_with_an_amount_sent_as_a_number_is_readjudicated(client):
    _post(client, "/v1/verdicts", _written(_contact("money-4"), claimed_amount_sek="499.5"))
    result = client.post("/v1/simulations/readjudication", json={"scenario": "national_only"}).get_json()
    assert (result["decisions"], result["rejected"]["count"]) == (1, 0)


def test_a_batch_lists_each_line_with_a_refused_amount_and_stores_only_the_good_lines(client):
    numbers = [*REFUSED, *ACCEPTED]
    lines = [_written(_contact(f"batch-{n}"), claimed_amount_sek=number) for n, number in enumerate(numbers)]
    response = _post(client, "/v1/verdicts/batch", '{"contacts": [' + ",".join(lines) + "]}")
    assert response.status_code == 200
    body = response.get_json()
    assert [(r["index"], r["contact_id"], r["errors"]) for r in body["rejected"]] == [
        (n, f"batch-{n}", {"claimed_amount_sek": [REFUSED[number]]}) for n, number in enumerate(REFUSED)
    ]
    assert [v["amount_sek"] for v in body["verdicts"]] == list(ACCEPTED.values())
    stored = client.get("/v1/decisions?limit=100").get_json()["items"]
    assert sorted(d["contact_id"] for d in stored) == [
        f"batch-{n}" for n in range(len(REFUSED), len(numbers))
    ]


def _contract() -> dict:
    return dict(examples.contract_example(), tariff_sek={"physician": "450.00"})


@pytest.mark.parametrize("number", list(REFUSED))
def test_a_contract_tariff_a_float_would_round_is_422_on_the_tariff_and_not_stored(client, number):
    for method, path in (("POST", "/v1/contracts"), ("PUT", f"/v1/contracts/{_contract()['id']}")):
        text = _written(_contract(), tariff_sek="{" + f'"physician": {number}' + "}")
        response = client.open(path, method=method, data=text, content_type="application/json")
        assert response.status_code == 422 and response.mimetype == PROBLEM
        errors = response.get_json()["errors"]
        assert list(errors.values()) == [[REFUSED[number]]]
        assert all(key.startswith("tariff_sek.physician") for key in errors)
    assert client.get(f"/v1/contracts/{_contract()['id']}").status_code == 404


def test_a_contract_tariff_written_as_a_json_number_is_kept_exactly(client):
    text = _written(_contract(), tariff_sek='{"physician": 450.5, "nurse": 250}')
    response = _post(client, "/v1/contracts", text)
    assert response.status_code == 201
    assert response.get_json()["tariff_sek"] == {"physician": "450.50", "nurse": "250.00"}


def test_a_simulation_lists_a_contact_with_a_refused_amount_and_does_not_count_it(client):
    lines = [
        _written(_contact("sim-0"), claimed_amount_sek="0.30000000000000001"),
        _written(_contact("sim-1"), claimed_amount_sek="499.5"),
    ]
    text = '{"scenarios": ["in_force"], "contacts": [' + ",".join(lines) + "]}"
    body = _post(client, "/v1/simulations", text).get_json()
    assert body["count"] == 1 and body["scenarios"][0]["amount_sek"] == "499.50"
    assert body["rejected"]["lines"] == [
        {"index": 0, "errors": {"claimed_amount_sek": ["At most 2 decimals."]}}
    ]


def _send(base: str, path: str, text: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, data=text.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_gunicorn_refuses_amounts_a_float_would_round_and_stores_none(live_server):
    for n, number in enumerate(REFUSED):
        status, body = _send(
            live_server, "/v1/verdicts", _written(_contact(f"live-{n}"), claimed_amount_sek=number)
        )
        assert (status, body["errors"]) == (422, {"claimed_amount_sek": [REFUSED[number]]})
    status, body = _send(
        live_server, "/v1/verdicts", _written(_contact("live-ok"), claimed_amount_sek="499.5")
    )
    assert (status, body["amount_sek"]) == (200, "499.50")
    with urllib.request.urlopen(live_server + "/v1/decisions", timeout=10) as response:
        assert [d["contact_id"] for d in json.loads(response.read())["items"]] == ["live-ok"]
