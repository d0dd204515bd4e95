"""Each key acts for its regions (issue 16, items 2, 5 and 9): it submits the contacts its regions
pay for or gave care in, and administers its regions' contracts; the OpenAPI document and the
README say so. Through HTTP, as a client would, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest

from api import create_app
from api.keys import parse_file

from .helpers import api_keys, contact, kry_contract

# id: (secret, regions, scopes)
KEYS = {
    "billing-25": ("s-billing-25", "25", "verdicts"),
    "care-06": ("s-care-06", "06", "verdicts"),
    "billing-01": ("s-billing-01", "01", "verdicts"),
    "admin-25": ("s-admin-25", "25", "contracts:admin"),
    "admin-25-01": ("s-admin-25-01", "25,01", "contracts:admin"),
    "national": ("s-national", "*", "verdicts,decisions:read,contracts:admin"),
}
REFUSED = "A key submits only contacts whose home_region or care_region is one of its regions."


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


@pytest.fixture
def client(db_url, monkeypatch):
    monkeypatch.setenv("API_KEYS", api_keys(KEYS))
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    app = create_app({"DATABASE_URL": db_url})
    yield app.test_client()
    app.extensions["utomlans.storage"].close()


@pytest.fixture
def open_client(db_url, monkeypatch):
    monkeypatch.delenv("API_KEYS", raising=False)
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    app = create_app({"DATABASE_URL": db_url})
    yield app.test_client()
    app.extensions["utomlans.storage"].close()


def stored_contact_ids(client) -> list[str]:
    items = client.get("/v1/decisions?limit=100", headers=bearer("national")).json["items"]
    return [item["contact"]["contact_id"] for item in items]


# -- verdicts (item 2) ------------------------------------------------------------------------


def test_a_region_key_submits_the_contacts_its_region_pays_for_or_gave_care_in(client):
    paying = client.post("/v1/verdicts", json=contact("paid-by-25"), headers=bearer("billing-25"))
    assert paying.status_code == 200 and paying.json["contact_id"] == "paid-by-25"
    caring = contact("cared-in-25", home_region="01", care_region="25")
    assert client.post("/v1/verdicts", json=caring, headers=bearer("billing-25")).status_code == 200
    # The care region checks a line before it invoices: Jönköping's key, Norrbotten's resident.
    assert client.post("/v1/verdicts", json=contact("by-06"), headers=bearer("care-06")).status_code == 200
    assert stored_contact_ids(client) == ["paid-by-25", "cared-in-25", "by-06"]


def test_a_contact_of_other_regions_is_a_403_naming_the_regions_and_nothing_is_stored(client):
    other = contact("stockholm-in-jonkoping", home_region="01", care_region="06")
    refused = client.post("/v1/verdicts", json=other, headers=bearer("billing-25"))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    message = "The API key acts for region 25; this contact's home_region is 01 and its care_region 06. "
    assert refused.json["detail"] == message + REFUSED
    assert refused.json["errors"] == {"_region": [message + REFUSED]}
    elsewhere = contact("norrbotten-in-stockholm", care_region="01")
    assert client.post("/v1/verdicts", json=elsewhere, headers=bearer("care-06")).status_code == 403
    assert stored_contact_ids(client) == []
    # Another region's contact sent again, identical, gets neither its decision nor a new one.
    assert client.post("/v1/verdicts", json=contact("theirs"), headers=bearer("national")).status_code == 200
    again = client.post("/v1/verdicts", json=contact("theirs"), headers=bearer("billing-01"))
    assert again.status_code == 403 and "decision_id" not in again.json
    assert stored_contact_ids(client) == ["theirs"]


def test_a_malformed_contact_is_a_422_before_its_regions_are_looked_at(client):
    bad = contact("bad", home_region="01", care_region="06", mode="telepathy")
    answer = client.post("/v1/verdicts", json=bad, headers=bearer("billing-25"))
    assert answer.status_code == 422 and set(answer.json["errors"]) == {"mode"}


def test_a_batch_rejects_the_lines_of_other_regions_and_decides_and_stores_the_rest(client):
    lines = [
        contact("b-home-25"),
        contact("b-other", home_region="01", care_region="06"),
        contact("b-bad", home_region="01", care_region="06", mode="telepathy"),
        contact("b-care-25", home_region="01", care_region="25"),
        contact("b-other-2", home_region="13", care_region="01"),
    ]
    answer = client.post("/v1/verdicts/batch", json={"contacts": lines}, headers=bearer("billing-25"))
    assert answer.status_code == 200
    body = answer.json
    assert [v["contact_id"] for v in body["verdicts"]] == ["b-home-25", "b-care-25"]
    rejected = {r["index"]: r for r in body["rejected"]}
    assert sorted(rejected) == [1, 2, 4]
    assert rejected[1]["contact_id"] == "b-other"
    assert rejected[1]["errors"] == {
        "_region": [
            "The API key acts for region 25; this contact's home_region is 01 and its care_region 06. "
            + REFUSED
        ]
    }
    assert set(rejected[2]["errors"]) == {"mode"}  # invalid first, whatever its regions
    assert "home_region is 13 and its care_region 01" in rejected[4]["errors"]["_region"][0]
    assert (body["summary"]["count"], body["summary"]["rejected"]) == (2, 3)
    assert stored_contact_ids(client) == ["b-home-25", "b-care-25"]


def test_a_national_key_submits_contacts_of_every_region(client):
    lines = [contact("n-1", home_region="01", care_region="06"), contact("n-2", home_region="13")]
    single = client.post("/v1/verdicts", json=contact("n-0", home_region="03"), headers=bearer("national"))
    assert single.status_code == 200
    batch = client.post("/v1/verdicts/batch", json={"contacts": lines}, headers=bearer("national")).json
    assert len(batch["verdicts"]) == 2 and batch["rejected"] == []


def test_open_mode_submits_contacts_of_every_region_as_before(open_client):
    other = contact("open", home_region="01", care_region="06")
    assert open_client.post("/v1/verdicts", json=other).status_code == 200
    batch = open_client.post("/v1/verdicts/batch", json={"contacts": [dict(other, contact_id="o2")]}).json
    assert len(batch["verdicts"]) == 1 and batch["rejected"] == []


def test_simulating_contacts_of_another_region_is_allowed(client):
    """Simulations decide the caller's own contacts and store nothing: no region is refused."""
    body = {"contacts": [contact("sim", home_region="01", care_region="06")], "scenarios": ["in_force"]}
    answer = client.post("/v1/simulations", json=body, headers=bearer("billing-25"))
    assert answer.status_code == 200
    assert (answer.json["count"], answer.json["rejected"]["count"]) == (1, 0)
    assert stored_contact_ids(client) == []


# -- contracts (item 5) -----------------------------------------------------------------------

STOCKHOLM = kry_contract(id="contract-01-kry", home_region="01")


def contract_ids(client, key, query="") -> list[str]:
    answer = client.get(f"/v1/contracts{query}", headers=bearer(key))
    assert answer.status_code == 200, answer.json
    return [item["id"] for item in answer.json["items"]]


def test_a_region_key_creates_reads_changes_and_removes_its_regions_contracts(client):
    created = client.post("/v1/contracts", json=kry_contract(), headers=bearer("admin-25"))
    assert created.status_code == 201
    assert contract_ids(client, "admin-25") == ["contract-25-kry", "contract-25-sample1"]
    assert client.get("/v1/contracts/contract-25-kry", headers=bearer("admin-25")).status_code == 200
    changed = client.put(
        "/v1/contracts/contract-25-kry", json=kry_contract(valid_to="2023-12-31"), headers=bearer("admin-25")
    )
    assert changed.status_code == 200 and changed.json["revision"] == 2
    assert client.delete("/v1/contracts/contract-25-kry", headers=bearer("admin-25")).status_code == 204
    audit = client.get("/v1/contracts/contract-25-kry/audit", headers=bearer("admin-25"))
    assert [a["action"] for a in audit.json["items"]] == ["create", "update", "delete"]


def test_another_regions_contracts_are_not_seen_and_not_changed(client):
    assert client.post("/v1/contracts", json=STOCKHOLM, headers=bearer("national")).status_code == 201
    assert contract_ids(client, "national") == ["contract-01-kry", "contract-25-sample1"]
    assert contract_ids(client, "admin-25") == ["contract-25-sample1"]
    assert contract_ids(client, "admin-25", "?home_region=25") == ["contract-25-sample1"]
    filtered = client.get("/v1/contracts?home_region=01", headers=bearer("admin-25"))
    assert filtered.status_code == 403 and filtered.mimetype == "application/problem+json"
    assert "acts for region 25, not for home_region 01" in filtered.json["detail"]

    # Reads: as if there were no such contract.
    unknown = client.get("/v1/contracts/contract-01-nothing", headers=bearer("admin-25"))
    hidden = client.get("/v1/contracts/contract-01-kry", headers=bearer("admin-25"))
    assert (hidden.status_code, unknown.status_code) == (404, 404)
    assert hidden.json["detail"] == unknown.json["detail"]  # the same answer, the id not said back
    assert client.get("/v1/contracts/contract-01-kry/audit", headers=bearer("admin-25")).status_code == 404

    # Writes: refused, and nothing changes.
    for answer in (
        client.post("/v1/contracts", json=dict(STOCKHOLM, id="contract-01-b"), headers=bearer("admin-25")),
        client.put(
            "/v1/contracts/contract-01-kry",
            json=dict(STOCKHOLM, home_region="25"),
            headers=bearer("admin-25"),
        ),
        client.delete("/v1/contracts/contract-01-kry", headers=bearer("admin-25")),
    ):
        assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
        assert answer.json["detail"].startswith("The API key acts for region 25, and ")
        # A new contract's region is the client's own; a stored one's is not said.
        assert ("has home_region 01" in answer.json["detail"]) == (answer.request.method == "POST")
        assert "contracts:admin` covers the contracts whose home_region" in answer.json["detail"]
    assert contract_ids(client, "national") == ["contract-01-kry", "contract-25-sample1"]
    audit = client.get("/v1/contracts/contract-01-kry/audit", headers=bearer("national")).json["items"]
    assert [(a["action"], a["actor"]) for a in audit] == [("create", "national")]


def test_moving_a_contract_to_another_home_region_needs_both_regions(client):
    assert client.post("/v1/contracts", json=kry_contract(), headers=bearer("admin-25")).status_code == 201
    moved = kry_contract(home_region="01")
    refused = client.put("/v1/contracts/contract-25-kry", json=moved, headers=bearer("admin-25"))
    assert refused.status_code == 403
    assert "contract contract-25-kry would move to home_region 01" in refused.json["detail"]
    assert client.get("/v1/contracts/contract-25-kry", headers=bearer("admin-25")).json["revision"] == 1

    done = client.put("/v1/contracts/contract-25-kry", json=moved, headers=bearer("admin-25-01"))
    assert done.status_code == 200 and done.json["home_region"] == "01"
    # Now Stockholm's: region 25's key no longer sees it, nor its trail, nor may it move it back.
    assert client.get("/v1/contracts/contract-25-kry", headers=bearer("admin-25")).status_code == 404
    assert client.get("/v1/contracts/contract-25-kry/audit", headers=bearer("admin-25")).status_code == 404
    back = client.put("/v1/contracts/contract-25-kry", json=kry_contract(), headers=bearer("admin-25"))
    assert back.status_code == 403 and "this contract is another region's" in back.json["detail"]
    assert "01" not in back.json["detail"]  # which region is not said
    audit = client.get("/v1/contracts/contract-25-kry/audit", headers=bearer("admin-25-01")).json["items"]
    assert [(a["action"], a["actor"]) for a in audit] == [("create", "admin-25"), ("update", "admin-25-01")]


def test_a_national_key_administers_every_regions_contracts(client):
    for body in (STOCKHOLM, kry_contract()):
        assert client.post("/v1/contracts", json=body, headers=bearer("national")).status_code == 201
    assert contract_ids(client, "national", "?home_region=01") == ["contract-01-kry"]
    moved = client.put(
        "/v1/contracts/contract-01-kry", json=dict(STOCKHOLM, home_region="13"), headers=bearer("national")
    )
    assert moved.status_code == 200
    assert client.get("/v1/contracts/contract-01-kry/audit", headers=bearer("national")).status_code == 200
    for contract_id in ("contract-01-kry", "contract-25-kry"):
        assert client.delete(f"/v1/contracts/{contract_id}", headers=bearer("national")).status_code == 204


def test_open_mode_administers_every_regions_contracts_as_before(open_client):
    assert open_client.post("/v1/contracts", json=STOCKHOLM).status_code == 201
    assert [c["id"] for c in open_client.get("/v1/contracts?home_region=01").json["items"]] == [
        "contract-01-kry"
    ]
    assert (
        open_client.put("/v1/contracts/contract-01-kry", json=dict(STOCKHOLM, home_region="25")).status_code
        == 200
    )
    assert open_client.get("/v1/contracts/contract-01-kry/audit").status_code == 200
    assert open_client.delete("/v1/contracts/contract-01-kry").status_code == 204


def test_the_readmes_example_key_file_loads_as_the_readme_describes_it(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Roles and regions\n", 1)[1]
    (tmp_path / "keys.yaml").write_text(section.split("```yaml\n", 1)[1].split("```", 1)[0], encoding="utf-8")
    keys = {key.id: (key.regions, key.scopes) for key in parse_file(tmp_path / "keys.yaml")}
    assert keys == {
        "billing-25": ({"25"}, {"verdicts", "decisions:read"}),
        "contracts-25": ({"25"}, {"contracts:admin"}),
        "invoicing-06": ({"06"}, {"verdicts", "decisions:read"}),
        "skr-analyst": (None, {"verdicts", "decisions:read"}),
        "operator": (None, {"contracts:admin"}),
    }


def test_the_openapi_document_lists_the_403_and_404_answers_of_each_operation(open_client):
    paths = open_client.get("/openapi.json").json["paths"]
    protected = [
        (path, method, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if "security" in operation
    ]
    assert len(protected) > 10
    for path, method, operation in protected:
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
        assert operation["responses"]["403"]["description"].startswith("The API key lacks the scope `")

    def answer(path, method, status):
        return paths[path][method]["responses"][status]["description"]

    assert "`errors._region`" in answer("/v1/verdicts", "post", "403")
    assert paths["/v1/verdicts"]["post"]["responses"]["403"]["content"]["application/problem+json"]["example"]
    assert "`_region`" in paths["/v1/verdicts/batch"]["post"]["description"]
    one = "/v1/contracts/{contract_id}"
    for path, method in (("/v1/contracts", "get"), ("/v1/contracts", "post"), (one, "put"), (one, "delete")):
        assert "home_region" in answer(path, method, "403"), (method, path)
    for path in (one, one + "/audit"):
        assert "not one of the API key's regions (not revealed)" in answer(path, "get", "404")
    assert answer(one, "put", "404") == answer(one, "delete", "404") == "No contract with this id."


def test_an_id_once_used_for_another_regions_contract_is_not_taken_over_with_its_trail(client):
    """Region 01's removed contract keeps its id: region 25 cannot create one under it and so read
    01's audit trail; 01 may use it again, and its trail stays its own."""
    national = bearer("national")
    assert client.post("/v1/contracts", json=STOCKHOLM, headers=national).status_code == 201
    assert client.delete(f"/v1/contracts/{STOCKHOLM['id']}", headers=national).status_code == 204
    taken = client.post("/v1/contracts", json=kry_contract(id=STOCKHOLM["id"]), headers=bearer("admin-25"))
    assert taken.status_code == 409
    assert client.get(f"/v1/contracts/{STOCKHOLM['id']}/audit", headers=bearer("admin-25")).status_code == 404
    assert client.post("/v1/contracts", json=STOCKHOLM, headers=national).status_code == 201
    trail = client.get(f"/v1/contracts/{STOCKHOLM['id']}/audit", headers=national).get_json()["items"]
    assert [entry["action"] for entry in trail] == ["create", "delete", "create"]
