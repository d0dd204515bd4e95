"""POST /v1/simulations and /v1/simulations/readjudication through the Flask test client."""

import pytest

from api.auth import scope_for
from rules.simulation.generator import GeneratorSpec, generate

ALL_MET = {"qualified_care": True, "strong_authentication": True, "journaled": True, "triaged": True}


@pytest.fixture
def client(make_app):
    return make_app(SIMULATION_MAX_CONTACTS=5000).test_client()


def test_generated_year_under_three_scenarios(client):
    body = {
        "generate": {"year": 2020, "count": 2000, "seed": 11},
        "scenarios": [
            "in_force",
            "stop_from_2020",
            {
                "name": "stop_advisory",
                "base": "stop_from_2020",
                "overrides": {"regions.25.digital_stop.enforcement": "advisory"},
            },
        ],
    }
    response = client.post("/v1/simulations", json=body)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["data"]["source"] == "generated" and "SYNTHETIC DATA" in result["data"]["label"]
    assert [s["name"] for s in result["scenarios"]] == ["in_force", "stop_from_2020", "stop_advisory"]
    assert all(s["count"] == 2000 for s in result["scenarios"])
    assert result["deltas"][0]["changed"][0]["to"] == "DIGITAL_NOT_CONTRACTED"
    assert result["scenarios"][2]["amount_sek"] == result["scenarios"][0]["amount_sek"]
    assert set(result["scenarios"][0]["by_sex"]) == {"female", "male"}


def test_a_generated_future_year_is_simulated(client):
    response = client.post("/v1/simulations", json={"generate": {"year": 2030, "count": 200, "seed": 3}})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert (result["count"], result["rejected"]["count"]) == (200, 0)


def test_sent_contacts_with_a_bad_line(client):
    contacts = list(generate(GeneratorSpec(2022, count=5, seed=2)))
    contacts.insert(2, {"contact_id": "bad", "home_region": "02"})
    response = client.post(
        "/v1/simulations", json={"contacts": contacts, "scenarios": ["in_force", "national_only"]}
    )
    result = response.get_json()
    assert response.status_code == 200
    assert result["count"] == 5
    assert result["rejected"]["count"] == 1 and result["rejected"]["lines"][0]["index"] == 2
    assert "home_region" in result["rejected"]["lines"][0]["errors"]


@pytest.mark.parametrize(
    "body, key",
    [
        ({"generate": {"year": 2020, "count": 10}, "scenarios": ["nope"]}, "scenarios[0]"),
        (
            {
                "generate": {"year": 2020, "count": 10},
                "scenarios": ["in_force", {"name": "x", "overrides": {"a.b": 1}}],
            },
            "scenarios[1].overrides.a.b",
        ),
        ({"generate": {"year": 2021}}, "generate.count"),
        ({"generate": {"year": 2020, "count": 10}, "contacts": []}, "_schema"),
        ({}, "_schema"),
        ({"generate": {"year": 2020, "count": 10}, "scenarios": []}, "scenarios"),
        ({"generate": {"year": 2020, "count": 10}, "format": "pdf"}, "format"),
        ({"generate": {"year": 2020, "count": 10}, "colour": 1}, "colour"),
        ({"contacts": {"a": 1}}, "contacts"),
    ],
)
def test_bad_requests_are_422_problems_per_key(client, body, key):
    response = client.post("/v1/simulations", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert key in response.get_json()["errors"]


def test_too_many_contacts_is_413(client):
    response = client.post("/v1/simulations", json={"generate": {"year": 2020, "count": 5001}})
    assert response.status_code == 422  # the generator spec is bounded by the same limit
    response = client.post("/v1/simulations", json={"contacts": [{}] * 5001})
    assert response.status_code == 413


def test_html_report(client):
    body = {
        "generate": {"year": 2020, "count": 300},
        "scenarios": ["in_force", "stop_from_2020"],
        "format": "html",
    }
    response = client.post("/v1/simulations", json=body)
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.count("<canvas") == 5 and 'id="stop-saving-sek"' in page
    accept = client.post(
        "/v1/simulations", json={"generate": {"year": 2020, "count": 50}}, headers={"Accept": "text/html"}
    )
    assert accept.mimetype == "text/html"


def test_readjudication_of_the_decision_log(client):
    contacts = [
        {
            "contact_id": f"RA-{i}",
            "contact_date": "2022-05-02",
            "home_region": "25",
            "care_region": "06",
            "provider_id": "SE-READJ-TEST",
            "mode": "chat",
            "care_category": "planned",
            "profession": "nurse",
            "digital_requirements": ALL_MET,
            "claimed_amount_sek": "275.00",
        }
        for i in range(3)
    ]
    assert client.post("/v1/verdicts/batch", json={"contacts": contacts}).status_code == 200
    response = client.post(
        "/v1/simulations/readjudication",
        json={
            "scenario": "national_only",
            "home_region": "25",
            "contact_date_from": "2022-05-02",
            "contact_date_to": "2022-05-02",
        },
    )
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    mine = [c for c in result["changed"]["items"] if c["contact_id"].startswith("RA-")]
    assert len(mine) == 3
    assert {(c["before"]["reason"], c["after"]["reason"], c["amount_delta_sek"]) for c in mine} == {
        ("DIGITAL_NOT_CONTRACTED", "DIGITAL_TARIFF", "+275.00")
    }
    assert result["truncated"] is False
    assert result["by_home_region"]["25"]["changed"] >= 3


@pytest.mark.parametrize(
    "body, key",
    [
        ({}, "scenario"),
        ({"scenario": "nope"}, "scenario"),
        ({"scenario": "in_force", "limit": 0}, "limit"),
        ({"scenario": "in_force", "home_region": "99"}, "home_region"),
        ({"scenario": "in_force", "contact_date_from": "2022-13-01"}, "contact_date_from"),
        ({"scenario": "in_force", "contact_date_from": "0241-01-01"}, "contact_date_from"),
        ({"scenario": "in_force", "contact_date_to": "2101-01-01"}, "contact_date_to"),
        (
            {"scenario": "in_force", "contact_date_from": "2022-02-01", "contact_date_to": "2022-01-01"},
            "contact_date_to",
        ),
        ({"scenario": "in_force", "x": 1}, "x"),
    ],
)
def test_bad_readjudication_requests(client, body, key):
    response = client.post("/v1/simulations/readjudication", json=body)
    assert response.status_code == 422
    assert key in response.get_json()["errors"]


def test_scopes():
    assert scope_for("/v1/simulations") == "verdicts"
    assert scope_for("/v1/simulations/readjudication") == "decisions:read"
