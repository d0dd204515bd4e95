"""POST /v1/policy-versions (a whole policy or an overlay) and GET /v1/policy-versions/{digest}/diff,
as a client uses them, on SQLite and PostgreSQL."""

import copy

import pytest

import rules
from api import examples
from rules.policy_candidate import source_id
from tests.storage.helpers import api_keys

VERSIONS = "/v1/policy-versions"
STOP_ADVISORY = {"regions.25.digital_stop.enforcement": "advisory"}
DECISION = {
    "ref": "Region Norrbotten, regionstyrelsen 2026-11-28 § 12",
    "url": "https://www.norrbotten.se/rs-12",
}
SHIPPED_REGION = "regions/25-norrbotten.yaml"


@pytest.fixture
def shipped():
    return dict(rules.default_policy().files)


def _problem(response) -> dict:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()["errors"]


def test_a_whole_policy_is_stored_as_a_candidate_then_found_again(client, shipped):
    files = dict(shipped)
    files["national.yaml"] = files["national.yaml"].replace("value: 6", "value: 3")
    first = client.post(VERSIONS, json={"files": files, "note": "Invoices within 3 months"})
    assert first.status_code == 201, first.get_json()
    created = first.get_json()
    assert created["status"] == "candidate" and created["note"] == "Invoices within 3 months"
    assert first.headers["Location"] == f"{VERSIONS}/{created['digest']}"
    stored = client.get(first.headers["Location"]).get_json()
    assert stored["files"] == files  # byte for byte
    assert stored["check"]["ok"] is True

    again = client.post(VERSIONS, json={"files": files, "note": "the same again"})
    assert again.status_code == 200
    assert again.get_json()["digest"] == created["digest"]
    assert again.get_json()["note"] == "Invoices within 3 months"  # the version stored first


def test_the_files_in_force_are_the_version_in_force(client, shipped):
    response = client.post(VERSIONS, json={"files": shipped, "note": "the shipped files"})
    assert response.status_code == 200
    assert response.get_json()["digest"] == rules.default_policy().version
    assert response.get_json()["status"] == "active"


def test_an_overlay_changes_only_the_files_it_must(client, shipped):
    body = {"base": "active", "overrides": STOP_ADVISORY, "source": DECISION, "note": "advisory"}
    first = client.post(VERSIONS, json=body)
    assert first.status_code == 201, first.get_json()
    created = first.get_json()
    assert created["base"] == rules.default_policy().version
    assert created["overlay"] == {"overrides": STOP_ADVISORY, "source": DECISION}
    files = client.get(first.headers["Location"]).get_json()["files"]
    changed = {name for name in files if files[name] != shipped[name]}
    assert changed == {SHIPPED_REGION, "sources.yaml"}
    assert set(files) == set(shipped)
    assert source_id(DECISION["ref"], DECISION["url"]) in files["sources.yaml"]

    again = client.post(VERSIONS, json={**body, "base": rules.default_policy().version, "note": "again"})
    assert again.status_code == 200
    assert again.get_json()["digest"] == created["digest"]


def test_a_verdict_under_an_activated_overlay_cites_its_decision(client, contact):
    body = {"overrides": STOP_ADVISORY, "source": DECISION, "note": "advisory from the board"}
    digest = client.post(VERSIONS, json=body).get_json()["digest"]
    before = client.post("/v1/verdicts", json=contact).get_json()
    assert before["decision"] == "no_pay"
    assert DECISION not in before["legal_basis"]

    activated = client.post(f"{VERSIONS}/{digest}/activate", json={"note": "board decision"})
    assert activated.status_code == 200, activated.get_json()
    after = client.post("/v1/verdicts", json={**contact, "contact_id": "NLL-2022-000200"}).get_json()
    assert after["decision"] == "pay"
    assert "DIGITAL_STOP_ADVISORY" in after["flags"]
    assert DECISION in after["legal_basis"]
    assert "ASSUMED_EFFECTIVE_DATE" not in after["flags"]
    assert after["policy"]["version"] == digest


def test_an_overlay_without_a_source_is_an_assumption(client, contact):
    body = {"overrides": STOP_ADVISORY, "note": "what if advisory"}
    created = client.post(VERSIONS, json=body)
    assert created.status_code == 201
    digest = created.get_json()["digest"]
    change = client.get(f"{VERSIONS}/{digest}/diff").get_json()["parameters"]
    assert [(c["parameter"], c["new"]["value"]) for c in change] == [("digital_stop", "advisory")]
    assert change[0]["new"]["source"]["id"] == "norrbotten-dnr-347-2021"
    assert "no decision cited" in change[0]["new"]["assumption"]

    client.post(f"{VERSIONS}/{digest}/activate", json={"note": "try"})
    verdict = client.post("/v1/verdicts", json=contact).get_json()
    assert "ASSUMED_EFFECTIVE_DATE" in verdict["flags"]


def test_the_diff_of_an_overlay_names_the_changed_parameter_with_both_sources(client):
    body = {"overrides": STOP_ADVISORY, "source": DECISION, "note": "advisory"}
    digest = client.post(VERSIONS, json=body).get_json()["digest"]
    response = client.get(f"{VERSIONS}/{digest}/diff?against=active")
    assert response.status_code == 200
    result = response.get_json()
    assert result["from"] == rules.default_policy().version and result["to"] == digest
    assert result["identical"] is False
    (change,) = result["parameters"]
    assert change["layer"] == "regional" and change["home_region"] == "25"
    assert change["period"] == "region-25-2022-01-01" and change["parameter"] == "digital_stop"
    assert change["old"]["value"] == "enforce"
    assert change["old"]["source"]["id"] == "norrbotten-dnr-347-2021"
    assert change["new"] == {
        "value": "advisory",
        "source": {"id": source_id(DECISION["ref"], DECISION["url"]), **DECISION},
        "assumption": None,
    }
    assert result["sources"]["added"] == [change["new"]["source"]]
    assert result["rules"] == {"added": [], "removed": [], "moved": [], "changed": []}

    backwards = client.get(f"{VERSIONS}/{rules.default_policy().version}/diff?against={digest}").get_json()
    assert backwards["parameters"][0]["old"] == change["new"]
    same = client.get(f"{VERSIONS}/{digest}/diff?against={digest}").get_json()
    assert same["identical"] is True and same["parameters"] == []


def test_the_swagger_examples_work(client):
    """Try it out: the overlay example is created, and its diff is the documented example."""
    created = client.post(VERSIONS, json=examples.CANDIDATE_OVERLAY)
    assert created.status_code == 201
    digest = created.get_json()["digest"]
    assert digest == examples.candidate_policy().version
    assert client.get(f"{VERSIONS}/{digest}/diff").get_json() == examples.policy_diff_example()
    for example in examples.candidate_examples().values():
        assert client.post(VERSIONS, json=example["value"]).status_code == 200


def test_every_policy_version_call_works_with_its_swagger_example(client):
    """Swagger UI's "Try it out", call by call in the order of the README's story, with the
    examples the OpenAPI document gives (path parameters, bodies; a query parameter's default)."""
    document = client.get("/openapi.json").get_json()
    order = ["post", "get", "get /diff", "post /impact", "post /activate", "get /audit"]
    calls = []
    for path, item in document["paths"].items():
        if not path.startswith(VERSIONS):
            continue
        for method, operation in item.items():
            if method == "parameters":
                continue
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            url = path
            for parameter in parameters:
                if parameter["in"] == "path":
                    url = url.replace(f"{{{parameter['name']}}}", parameter["example"])
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            bodies = [e["value"] for e in content.get("examples", {}).values()] or [content.get("example")]
            rest = path.removeprefix(VERSIONS).replace("/{digest}", "")
            calls += [(order.index(f"{method} {rest}".strip()), method, url, body) for body in bodies]
    assert len(calls) == 8  # two examples to propose, list, one, diff, impact, activate, audit
    for _, method, url, body in sorted(calls, key=lambda call: call[0]):
        answer = client.open(url, method=method.upper(), json=body)
        assert answer.status_code in (200, 201), (method, url, answer.get_json())


def test_active_names_the_version_in_force_on_either_side_of_a_diff(client):
    body = {"overrides": STOP_ADVISORY, "source": DECISION, "note": "advisory"}
    candidate = client.post(VERSIONS, json=body).get_json()["digest"]
    active = rules.default_policy().version
    backwards = client.get(f"{VERSIONS}/active/diff", query_string={"against": candidate})
    assert backwards.status_code == 200, backwards.get_json()  # it answered 500
    assert (backwards.get_json()["from"], backwards.get_json()["to"]) == (candidate, active)
    itself = client.get(f"{VERSIONS}/active/diff").get_json()
    assert (itself["from"], itself["to"], itself["identical"]) == (active, active, True)


def test_diff_refuses_an_unknown_version_on_either_side_and_a_malformed_against(client):
    active = rules.default_policy().version
    unknown = "0" * 64
    assert client.get(f"{VERSIONS}/{unknown}/diff").status_code == 404
    assert client.get(f"{VERSIONS}/{active}/diff?against={unknown}").status_code == 404
    assert client.get(f"{VERSIONS}/not-a-digest/diff").status_code == 404
    for against in ("ACTIVE", "abc", active[:-1], f"{active}0"):
        errors = _problem(client.get(f"{VERSIONS}/{active}/diff", query_string={"against": against}))
        assert list(errors) == ["against"]


def test_every_file_problem_found_is_named_by_file(client, shipped):
    files = dict(shipped)
    del files["catalogue.yaml"]
    files["national.yaml"] = "layer: national\nperiods: [\n"
    files["eligibility.yaml"] = "rules:\n  - reason: X\n   decision: pay\n"
    files["contracts/sample.yaml"] = "layer: contracts\n"
    files["notes.txt"] = "hello"
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "broken"}))
    assert set(errors) == {
        "files.catalogue.yaml",
        "files.national.yaml",
        "files.eligibility.yaml",
        "files.contracts/sample.yaml",
        "files.notes.txt",
    }
    assert "Missing" in errors["files.catalogue.yaml"][0]
    assert "not valid YAML" in errors["files.national.yaml"][0]
    assert "contract registry" in errors["files.contracts/sample.yaml"][0]


def test_the_loaders_problem_is_named_by_file_and_key(client, shipped):
    files = dict(shipped)
    files[SHIPPED_REGION] = files[SHIPPED_REGION].replace("valid_from: 2022-01-01", "valid_from: someday")
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "broken"}))
    assert errors == {f"files.{SHIPPED_REGION}.periods[1].valid_from": ["not a date: 'someday'"]}

    files[SHIPPED_REGION] = shipped[SHIPPED_REGION].replace("value: enforce", "value: sometimes")
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "broken"}))
    assert list(errors) == [f"files.{SHIPPED_REGION}.periods[1].parameters.digital_stop.value"]


def test_text_in_the_files_is_held_to_the_rules_for_text_from_clients(client, shipped):
    """Stored with the version and quoted in verdicts: no control character, no escape that is no
    character (it answered 500), no identity number; every file's first problem, by file and key."""
    files = dict(shipped)
    files["catalogue.yaml"] += '\ntitle: "a \\uD800 b"\n'
    files["sources.yaml"] = shipped["sources.yaml"].replace(
        'ref: "Patientlagen (2014:821) 9 kap. 1 §"', 'ref: "Patientlagen\\x07 9 kap. 1 §"'
    )
    files["national.yaml"] += "# checked with the patient 19121212-1212\n"
    files["regions/19121212-1212.yaml"] = files.pop(SHIPPED_REGION)  # a file name is stored too
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "texts"}))
    assert set(errors) == {
        "files.catalogue.yaml.title",
        "files.sources.yaml.sources.patientlagen-9-1.ref",
        "files.national.yaml",
        "files.regions/19121212-1212.yaml",
    }
    assert "Identity numbers" in errors["files.regions/19121212-1212.yaml"][0]
    assert "Identity numbers" in errors["files.national.yaml"][0]
    assert [item["digest"] for item in client.get(VERSIONS).get_json()["items"]] == [
        rules.default_policy().version
    ]


def test_yaml_that_would_take_the_server_down_is_refused_by_file(client, shipped):
    """Aliases that multiply (each level ten times the one before) and nesting past Python's
    recursion limit (a 500) are refused as YAML that is not valid for a policy."""
    files = dict(shipped)
    levels = ["lol0: &l0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)
    ]
    files["catalogue.yaml"] += "\n" + "\n".join(levels) + "\n"
    files["national.yaml"] += "\ndeep: " + "[" * 5000 + "]" * 5000 + "\n"
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "large"}))
    assert set(errors) == {"files.catalogue.yaml", "files.national.yaml"}
    assert "alias" in errors["files.catalogue.yaml"][0]
    assert "nested too deeply" in errors["files.national.yaml"][0]


def test_specialties_are_slugs_as_a_contacts_are(client):
    """A specialty no contact can have never applies; and the value is stored with the version."""
    for value in (["Neuropsychiatric assessment"], ["19121212-1212"], ["a\u0000"], [1]):
        body = {"overrides": {"regions.25.referral_required_specialties": value}, "note": "n"}
        errors = _problem(client.post(VERSIONS, json=body))
        assert list(errors) == ["overrides.regions.25.referral_required_specialties"], errors
        assert "19121212" not in str(errors)
    files = dict(rules.default_policy().files)
    files[SHIPPED_REGION] = files[SHIPPED_REGION].replace(
        "value: [neuropsychiatric_assessment]", "value: [neuropsychiatric assessment]", 1
    )
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "n"}))
    assert list(errors) == [
        f"files.{SHIPPED_REGION}.periods[0].parameters.referral_required_specialties.value[0]"
    ]


def test_bad_overrides_are_named_by_key(client):
    body = {
        "overrides": {
            "regions.25.digital_stop.nope": "x",
            "national.invoice_limit_months": 0,
            "regions.25.digital_stop.enforcement": "advisory",
        },
        "note": "bad",
    }
    errors = _problem(client.post(VERSIONS, json=body))
    assert set(errors) == {
        "overrides.regions.25.digital_stop.nope",
        "overrides.national.invoice_limit_months",
    }
    broken = {"overrides": {"national.digital_tariff_sek.physician": "-5.00"}, "note": "negative"}
    errors = _problem(client.post(VERSIONS, json=broken))
    assert list(errors) == ["files.national.yaml.periods[0].parameters.digital_tariff_sek.value.physician"]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"overrides": STOP_ADVISORY, "base": "0" * 64, "note": "n"}, "base"),
        ({"overrides": STOP_ADVISORY, "base": "latest", "note": "n"}, "base"),
        ({"overrides": STOP_ADVISORY}, "note"),
        ({"note": "nothing to propose"}, "files"),
        ({"files": {"national.yaml": "x"}, "overrides": STOP_ADVISORY, "note": "n"}, "overrides"),
        ({"overrides": STOP_ADVISORY, "note": "tel 19121212-1212"}, "note"),
        ({"overrides": STOP_ADVISORY, "note": "a\nb"}, "note"),
        (
            {"overrides": STOP_ADVISORY, "note": "n", "source": {"ref": "Dnr\t1", "url": "https://x.se/"}},
            "source.ref",
        ),
        (
            {
                "overrides": STOP_ADVISORY,
                "note": "n",
                "source": {"ref": "L-19121212-1212", "url": "https://x.se/"},
            },
            "source.ref",
        ),
        (
            {"overrides": STOP_ADVISORY, "note": "n", "source": {"ref": "Dnr 1", "url": "file:///etc"}},
            "source.url",
        ),
        ({"overrides": STOP_ADVISORY, "note": "n", "source": {"ref": "Dnr 1"}}, "source.url"),
        ({"overrides": STOP_ADVISORY, "note": "n", "extra": 1}, "extra"),
    ],
)
def test_a_bad_body_is_a_422_on_its_field(client, body, key):
    errors = _problem(client.post(VERSIONS, json=copy.deepcopy(body)))
    assert key in errors, errors


def test_nothing_is_stored_for_a_refused_candidate(client):
    client.post(VERSIONS, json={"overrides": {"national.telephone_reimbursed": "yes"}, "note": "bad"})
    items = client.get(VERSIONS).get_json()["items"]
    assert [item["digest"] for item in items] == [rules.default_policy().version]
    assert [entry["action"] for entry in client.get(f"{VERSIONS}/audit").get_json()["items"]] == [
        "add",
        "activate",
    ]


def test_a_yaml_date_that_is_no_day_is_named_by_file_not_a_server_error(client, shipped):
    files = dict(shipped)
    files[SHIPPED_REGION] = files[SHIPPED_REGION].replace("valid_from: 2022-01-01", "valid_from: 2022-02-30")
    errors = _problem(client.post(VERSIONS, json={"files": files, "note": "broken"}))
    assert list(errors) == [f"files.{SHIPPED_REGION}"]
    assert "no day" in errors[f"files.{SHIPPED_REGION}"][0]


def test_proposing_needs_policy_admin_and_names_the_key_as_the_one_who_added(make_app):
    keys = {"board": ("board-secret", "policy:admin"), "biller": ("biller-secret", "verdicts")}
    client = make_app(API_KEYS=api_keys(keys)).test_client()
    body = {"overrides": STOP_ADVISORY, "note": "advisory"}
    refused = client.post(VERSIONS, json=body, headers={"Authorization": "Bearer biller-secret"})
    assert refused.status_code == 403
    created = client.post(VERSIONS, json=body, headers={"Authorization": "Bearer board-secret"})
    assert created.status_code == 201
    assert created.get_json()["added_by"] == "board"
    digest = created.get_json()["digest"]
    diffed = client.get(f"{VERSIONS}/{digest}/diff", headers={"Authorization": "Bearer biller-secret"})
    assert diffed.status_code == 403
