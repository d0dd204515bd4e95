"""No identity numbers reach the service's storage (issue 16 item 7), on SQLite and PostgreSQL: a
personnummer or samordningsnummer in a contact, a batch line, a contract or a query parameter is a
422 on that field, nothing of it is stored, and the answer does not say the number back."""

import pytest

from rules.identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number

PROBLEM = "application/problem+json"
REFUSED = [IDENTITY_NUMBER_MESSAGE]
PERSONNUMMER = "19121212-1212"  # Skatteverket's test personnummer
SAMORDNINGSNUMMER = "701063-2391"  # and its example samordningsnummer
NEAR_MISS = "19121212-1213"  # a wrong check digit: an ordinary number
CONTRACT = {
    "id": "contract-25-idn",
    "home_region": "25",
    "provider_id": "SE2321000230-IDN",
    "valid_from": "2023-01-01",
    "tariff_sek": {"physician": "400.00"},
    "source": "Avtal Dnr 99-2023",
    "fictitious": True,
}


def refused(response, field: str) -> None:
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.get_json()["errors"] == {field: REFUSED}
    text = response.get_data(as_text=True)
    assert "1212" not in text and "2391" not in text


def strings(value):
    """Every string in a JSON value, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner)


def stored_decisions(client) -> list[dict]:
    page = client.get("/v1/decisions/feed?limit=1000")
    assert page.status_code == 200
    items = page.get_json()["items"]
    assert not any(holds_identity_number(text) for text in strings(items))
    return items


@pytest.mark.parametrize(
    "field, value",
    [
        ("contact_id", PERSONNUMMER),
        ("contact_id", "191212121212"),
        ("contact_id", "L-19121212-1212"),
        ("provider_id", f"SE{SAMORDNINGSNUMMER}-K1"),
        ("specialty", "pnr_1212121212"),
    ],
)
def test_a_contact_holding_one_is_422_and_not_stored(client, contact, field, value):
    refused(client.post("/v1/verdicts", json=dict(contact, **{field: value})), field)
    assert stored_decisions(client) == []


def test_a_near_miss_is_decided_and_stored(client, contact):
    response = client.post("/v1/verdicts", json=dict(contact, contact_id=NEAR_MISS))
    assert response.status_code == 200
    assert [item["contact_id"] for item in stored_decisions(client)] == [NEAR_MISS]


def test_a_batch_line_holding_one_goes_under_rejected_without_it_and_is_not_stored(client, contact):
    lines = [
        dict(contact, contact_id="line-0"),
        dict(contact, contact_id=f"L-{PERSONNUMMER}"),
        dict(contact, contact_id="line-2", provider_id=SAMORDNINGSNUMMER),
        dict(contact, contact_id="line-3"),
    ]
    response = client.post("/v1/verdicts/batch", json={"contacts": lines})
    assert response.status_code == 200
    body = response.get_json()
    assert [verdict["contact_id"] for verdict in body["verdicts"]] == ["line-0", "line-3"]
    assert body["rejected"] == [
        {"index": 1, "contact_id": None, "errors": {"contact_id": REFUSED}},
        {"index": 2, "contact_id": "line-2", "errors": {"provider_id": REFUSED}},
    ]
    assert body["summary"]["rejected"] == 2
    assert not any(holds_identity_number(text) for text in strings(body))
    assert [item["contact_id"] for item in stored_decisions(client)] == ["line-0", "line-3"]


@pytest.mark.parametrize("field", ["id", "provider_id", "source"])
def test_a_contract_holding_one_is_422_and_not_stored(client, field):
    before = client.get("/v1/contracts").get_json()["items"]
    value = PERSONNUMMER if field == "id" else f"Avtal med {SAMORDNINGSNUMMER}"
    refused(client.post("/v1/contracts", json=dict(CONTRACT, **{field: value})), field)
    assert client.get("/v1/contracts").get_json()["items"] == before


def test_a_contract_change_holding_one_is_422_and_changes_nothing(client):
    assert client.post("/v1/contracts", json=CONTRACT).status_code == 201
    body = {key: value for key, value in CONTRACT.items() if key != "id"}
    refused(
        client.put("/v1/contracts/contract-25-idn", json=dict(body, source=f"pnr {PERSONNUMMER}")), "source"
    )
    assert client.get("/v1/contracts/contract-25-idn").get_json()["source"] == CONTRACT["source"]
    audit = client.get("/v1/contracts/contract-25-idn/audit").get_json()["items"]
    assert [entry["action"] for entry in audit] == ["create"]


@pytest.mark.parametrize(
    "path, field",
    [
        (f"/v1/decisions?contact_id={PERSONNUMMER}", "contact_id"),
        ("/v1/decisions?contact_id=L-191212121212", "contact_id"),
        ("/v1/decisions?reason=A_191212121212", "reason"),
        (f"/v1/contracts?provider_id=SE{SAMORDNINGSNUMMER}", "provider_id"),
    ],
)
def test_a_query_parameter_holding_one_is_422(client, path, field):
    refused(client.get(path), field)


def test_a_query_parameter_near_miss_is_a_filter_like_any(client):
    response = client.get(f"/v1/decisions?contact_id={NEAR_MISS}")
    assert response.status_code == 200 and response.get_json()["items"] == []


def test_a_cursor_is_not_free_text(client):
    """A cursor is the service's own token: refused because it is not one, not for its digits."""
    response = client.get("/v1/decisions?cursor=191212121212")
    assert response.status_code == 422
    assert response.get_json()["errors"]["cursor"] != REFUSED


@pytest.mark.parametrize("key", ["name", "title"])
def test_a_what_if_scenario_named_with_one_is_422(client, key):
    scenario = {"name": "what-if", "overrides": {}, key: f"what-if {PERSONNUMMER}"}
    response = client.post(
        "/v1/simulations", json={"generate": {"year": 2020, "count": 10}, "scenarios": [scenario]}
    )
    refused(response, f"scenarios[0].{key}")


def test_the_document_says_it_on_every_free_text_field(client):
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for schema, field in (("Contact", "contact_id"), ("Contact", "provider_id"), ("ContractBody", "source")):
        assert IDENTITY_NUMBER_MESSAGE in schemas[schema]["properties"][field]["description"]
    parameters = {p["name"]: p for p in document["paths"]["/v1/decisions"]["get"]["parameters"]}
    assert IDENTITY_NUMBER_MESSAGE in parameters["contact_id"]["description"]
    assert IDENTITY_NUMBER_MESSAGE not in parameters["cursor"].get("description", "")
