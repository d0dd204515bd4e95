"""POST /v1/policy-versions/{digest}/impact: the stored decisions decided again under a version, on
SQLite and PostgreSQL, as a client calls it."""

import logging
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import update

import rules
from api.auth import scope_for
from api.storage.policy_impact import Selection, impact
from api.storage.tables import decisions
from rules.loader import read_policy_files
from rules.vocabulary import age_group
from tests.storage.helpers import advisory_files, api_keys, contact, kry_contract

UNCONTRACTED = "SE2321000065-E0001"  # a digital provider no region has a contract with


@pytest.fixture
def storage(app):  # app and client: tests/api/conftest.py
    return app.extensions["utomlans.storage"]


@pytest.fixture
def candidate(storage):
    """The advisory candidate, stored as a client would (files), and compiled."""
    record, added = storage.versions.add(advisory_files(), actor="test", note="stop advisory")
    assert added and record["status"] == "candidate"
    return record["digest"]


# Norrbotten's residents' digital contacts with an uncontracted provider (stopped under the
# active version), one of them a nurse's chat; a Stockholm resident's (no stop there); a Norrbotten
# physical visit (free choice): patients of three age groups and both sexes.
CONTACTS = [
    contact("imp-1", patient={"age": 34, "sex": "female"}, provider_id=UNCONTRACTED),
    contact("imp-2", patient={"age": 70, "sex": "male"}, provider_id=UNCONTRACTED),
    contact(
        "imp-3", patient={"age": 5, "sex": "female"}, provider_id=UNCONTRACTED, claimed_amount_sek="750.00"
    ),
    contact(
        "imp-4",
        patient={"age": 36, "sex": "male"},
        provider_id=UNCONTRACTED,
        mode="chat",
        profession="nurse",
        claimed_amount_sek="275.50",
    ),
    contact("imp-5", home_region="01", patient={"age": 50, "sex": "female"}, provider_id=UNCONTRACTED),
    {
        key: value
        for key, value in contact(
            "imp-6",
            care_region="01",
            mode="physical",
            provider_id="SE2321000016-A1B2",
            claimed_amount_sek="1850.00",
            patient={"age": 70, "sex": "female"},
        ).items()
        if key != "digital_requirements"
    },
]


def _sek(text: str) -> Decimal:
    return Decimal(text)


def expected(contacts: list[dict], policy) -> dict:
    """What the impact must say, from rules.evaluate on each contact under the active version and
    under the candidate: per breakdown value, (decisions, changed, delta)."""
    active = rules.default_policy()
    out = {"home_region": defaultdict(list), "age_group": defaultdict(list), "sex": defaultdict(list)}
    changes = defaultdict(lambda: [0, Decimal(0)])
    for data in contacts:
        before, after = rules.evaluate(data, active), rules.evaluate(data, policy)
        delta = Decimal(after.amount_ore - before.amount_ore) / 100
        changed = (before.decision, before.reason, before.amount_ore) != (
            after.decision,
            after.reason,
            after.amount_ore,
        )
        for dimension, value in (
            ("home_region", data["home_region"]),
            ("age_group", age_group(data["patient"]["age"])),
            ("sex", data["patient"]["sex"]),
        ):
            out[dimension][value].append((changed, delta))
        if changed:
            changes[(before.reason, after.reason)][0] += 1
            changes[(before.reason, after.reason)][1] += delta
    breakdowns = {
        dimension: {
            value: (len(rows), sum(c for c, _ in rows), sum((d for _, d in rows), Decimal(0)))
            for value, rows in values.items()
        }
        for dimension, values in out.items()
    }
    return {"by": breakdowns, "changes": {key: tuple(value) for key, value in changes.items()}}


def test_advisory_stop_on_the_stored_log(client, storage, candidate):
    response = client.post("/v1/verdicts/batch", json={"contacts": CONTACTS})
    assert response.status_code == 200 and not response.get_json()["rejected"]
    reasons = [verdict["reason"] for verdict in response.get_json()["verdicts"]]
    assert reasons[:4] == ["DIGITAL_NOT_CONTRACTED"] * 4

    response = client.post(f"/v1/policy-versions/{candidate}/impact")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    want = expected(CONTACTS, storage.versions.policy(candidate))

    assert result["digest"] == candidate
    assert result["decisions"] == 6
    assert result["changed_decisions"] == 4
    assert result["without_contract_book"] == 0
    assert result["rejected"] == {"count": 0, "items": []}
    ((key, (count, delta)),) = want["changes"].items()
    assert key == ("DIGITAL_NOT_CONTRACTED", "DIGITAL_TARIFF") and count == 4 and delta > 0
    assert result["changed"] == [
        {"from": "DIGITAL_NOT_CONTRACTED", "to": "DIGITAL_TARIFF", "count": 4, "amount_sek": f"+{delta:.2f}"}
    ]
    assert _sek(result["amount_delta_sek"]) == delta
    assert _sek(result["amount_after_sek"]) - _sek(result["amount_before_sek"]) == delta
    for dimension in ("home_region", "age_group", "sex"):
        got = {
            value: (cell["decisions"], cell["changed"], _sek(cell["amount_delta_sek"]))
            for value, cell in result[f"by_{dimension}"].items()
        }
        assert got == want["by"][dimension], dimension
    assert result["by_home_region"]["01"]["amount_delta_sek"] == "0.00"
    assert set(result["by_age_group"]) == {"0-6", "19-39", "40-64", "65-74"}


def test_the_newest_decision_of_each_contact_in_the_period(client, candidate):
    first = client.post("/v1/verdicts/batch", json={"contacts": CONTACTS[:2]}).get_json()["verdicts"]
    # imp-1 sent again, corrected: its newest decision supersedes the first.
    corrected = dict(CONTACTS[0], claimed_amount_sek="300.00")
    second = client.post("/v1/verdicts", json=corrected).get_json()
    assert second["supersedes"] == first[0]["decision_id"]

    result = client.post(f"/v1/policy-versions/{candidate}/impact").get_json()
    assert result["decisions"] == 2  # imp-1 once, with its newest decision
    delta_newest = _sek(result["amount_delta_sek"])

    # Up to the moment of the first batch: imp-1's first decision is the newest in that period.
    until_first = client.post(
        f"/v1/policy-versions/{candidate}/impact", json={"evaluated_to": first[0]["evaluated_at"]}
    ).get_json()
    assert until_first["decisions"] == 2
    assert _sek(until_first["amount_delta_sek"]) - delta_newest == Decimal("200.00")  # 500 against 300

    since_second = client.post(
        f"/v1/policy-versions/{candidate}/impact", json={"evaluated_from": second["evaluated_at"]}
    ).get_json()
    assert since_second["decisions"] == 1 and since_second["changed"][0]["amount_sek"] == "+300.00"


def test_filters_select_the_decisions(client, candidate):
    late = contact(
        "imp-late", contact_date="2022-06-01", provider_id=UNCONTRACTED, patient={"age": 34, "sex": "male"}
    )
    assert client.post("/v1/verdicts/batch", json={"contacts": [*CONTACTS, late]}).status_code == 200
    url = f"/v1/policy-versions/{candidate}/impact"

    stockholm = client.post(url, json={"home_region": "01"}).get_json()
    assert stockholm["decisions"] == 1 and stockholm["changed"] == []
    assert list(stockholm["by_home_region"]) == ["01"]

    june = client.post(
        url, json={"contact_date_from": "2022-06-01", "contact_date_to": "2022-06-30"}
    ).get_json()
    assert june["decisions"] == 1 and june["changed_decisions"] == 1
    assert list(june["by_month"]) == ["2022-06"]

    norrbotten_march = client.post(
        url, json={"home_region": "25", "contact_date_from": "2022-03-01", "contact_date_to": "2022-03-31"}
    ).get_json()
    assert norrbotten_march["decisions"] == 5 and norrbotten_march["changed_decisions"] == 4

    nothing = client.post(url, json={"evaluated_to": "2022-01-01T00:00:00Z"}).get_json()
    assert nothing["decisions"] == 0 and nothing["amount_delta_sek"] == "0.00"


def test_a_decision_keeps_the_contracts_it_was_made_with(client, storage):
    """A contract changed and then removed after a decision: the decision is decided again with the
    contract as it stood, so the version it was made under changes nothing. A decision that names no
    contract book (stored before migration 0009) is decided with the registry as it is now."""
    contract = kry_contract(valid_from="2022-01-01", tariff_sek={"physician": "400.00"})
    assert client.post("/v1/contracts", json=contract).status_code == 201
    data = contact("imp-contracted", provider_id=contract["provider_id"])
    verdict = client.post("/v1/verdicts", json=data).get_json()
    assert (verdict["reason"], verdict["amount_sek"]) == ("CONTRACTED_PROVIDER", "400.00")

    replacement = {k: v for k, v in contract.items() if k != "id"}
    replacement["tariff_sek"] = {"physician": "300.00"}
    assert client.put(f"/v1/contracts/{contract['id']}", json=replacement).status_code == 200
    assert client.delete(f"/v1/contracts/{contract['id']}").status_code in (200, 204)
    # Decided now, the same contact is no longer contracted.
    assert rules.evaluate(data, storage.live.current()).reason == "DIGITAL_NOT_CONTRACTED"

    active = client.get("/v1/policy-versions").get_json()["active"]
    url = f"/v1/policy-versions/{active}/impact"
    result = client.post(url).get_json()
    assert result["decisions"] == 1
    assert result["changed"] == [] and result["amount_after_sek"] == "400.00"
    assert result["without_contract_book"] == 0

    with storage.engine.begin() as conn:
        conn.execute(update(decisions).values(contract_book=None))
    result = client.post(url).get_json()
    assert result["without_contract_book"] == 1
    assert result["changed"] == [
        {"from": "CONTRACTED_PROVIDER", "to": "DIGITAL_NOT_CONTRACTED", "count": 1, "amount_sek": "-400.00"}
    ]


def test_pages_and_progress(client, storage, candidate, caplog):
    """The log is read page by page in (evaluated_at, seq) order; a batch's decisions share their
    evaluated_at, so pages of two split them: the answer is the same as in one page."""
    contacts = [*CONTACTS, *(dict(c, contact_id=c["contact_id"] + "-b") for c in CONTACTS)]
    assert client.post("/v1/verdicts/batch", json={"contacts": contacts}).status_code == 200
    assert client.post("/v1/verdicts", json=dict(CONTACTS[1], claimed_amount_sek="450.00")).status_code == 200
    whole = impact(storage, candidate).to_dict()
    with caplog.at_level(logging.INFO, logger="api.storage.policy_impact"):
        paged = impact(storage, candidate, Selection(), page=2).to_dict()
    assert paged == whole and whole["decisions"] == 12
    assert any("done, 12 decisions" in record.getMessage() for record in caplog.records)


def test_html_report(client, candidate):
    assert client.post("/v1/verdicts/batch", json={"contacts": CONTACTS}).status_code == 200
    url = f"/v1/policy-versions/{candidate}/impact"
    for response in (
        client.post(url, json={"home_region": "25"}, headers={"Accept": "text/html"}),
        client.post(url, json={"home_region": "25", "format": "html"}),
    ):
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "<html" in page and "DIGITAL_NOT_CONTRACTED" in page and candidate[:12] in page
        assert "home_region 25" in page
    assert client.post(url, json={"format": "json"}).mimetype == "application/json"


def test_active_names_the_version_in_force_as_in_swagger_uis_example(client, storage):
    """The path's example is `active`: the impact of the version in force on the log changes nothing."""
    client.post("/v1/verdicts/batch", json={"contacts": CONTACTS})
    response = client.post("/v1/policy-versions/active/impact")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["digest"] == storage.versions.state().active
    assert (result["decisions"], result["changed_decisions"]) == (len(CONTACTS), 0)
    page = client.post("/v1/policy-versions/active/impact", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"


def test_unknown_version_is_404(client):
    for digest in ("0" * 64, "not-a-digest"):
        response = client.post(f"/v1/policy-versions/{digest}/impact")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "body, key",
    [
        ({"home_region": "99"}, "home_region"),
        ({"evaluated_from": "2022-03-01T10:00:00"}, "evaluated_from"),  # no time zone
        ({"evaluated_from": "yesterday"}, "evaluated_from"),
        ({"contact_date_from": "2022-13-01"}, "contact_date_from"),
        ({"contact_date_to": "0241-01-01"}, "contact_date_to"),
        ({"contact_date_from": "2022-02-01", "contact_date_to": "2022-01-01"}, "contact_date_to"),
        (
            {"evaluated_from": "2022-02-01T00:00:00Z", "evaluated_to": "2022-01-01T00:00:00Z"},
            "evaluated_to",
        ),
        ({"format": "pdf"}, "format"),
        ({"limit": 10}, "limit"),
        ([], "_schema"),
    ],
)
def test_bad_filters_are_422(client, candidate, body, key):
    response = client.post(f"/v1/policy-versions/{candidate}/impact", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert key in response.get_json()["errors"]


def test_scope(make_app):
    assert scope_for("/v1/policy-versions/" + "a" * 64 + "/impact") == "policy:admin"
    keys = {
        "analyst": ("analyst-secret", "verdicts,decisions:read"),
        "admin": ("admin-secret", "policy:admin"),
    }
    app = make_app(API_KEYS=api_keys(keys))
    client = app.test_client()
    active = app.extensions["utomlans.storage"].versions.state().active
    url = f"/v1/policy-versions/{active}/impact"
    assert client.post(url).status_code == 401
    assert client.post(url, headers={"Authorization": "Bearer analyst-secret"}).status_code == 403
    assert client.post(url, headers={"Authorization": "Bearer admin-secret"}).status_code == 200


def test_a_version_that_fails_the_checks_is_422(client, storage):
    files = read_policy_files()
    files["national.yaml"] = files["national.yaml"].replace("layer: national", "layer: nationwide", 1)
    digest = storage.versions.add(files, actor="test", note="broken")[0]["digest"]
    response = client.post(f"/v1/policy-versions/{digest}/impact")
    assert response.status_code == 422
    assert "national.yaml" in response.get_json()["errors"]["digest"][0]
