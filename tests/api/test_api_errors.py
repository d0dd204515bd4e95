"""Every error class answers RFC 9457 application/problem+json, and a 500 tells nothing inside."""

import base64
import logging
from urllib.parse import quote

import pytest

from api import examples

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    return body


def test_malformed_json_is_400(client):
    body = assert_problem(
        client.post("/v1/verdicts", data='{"contact_id": ', content_type="application/json"), 400
    )
    assert "not valid JSON" in body["detail"]


def test_empty_body_is_400(client):
    body = assert_problem(client.post("/v1/verdicts", data=b"", content_type="application/json"), 400)
    assert "empty" in body["detail"]


def test_unknown_path_is_404(client):
    body = assert_problem(client.get("/v1/nothing-here"), 404)
    assert body["instance"] == "/v1/nothing-here"


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/v1/verdicts")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_body_over_the_size_limit_is_413(make_app, contact):
    client = make_app(MAX_CONTENT_LENGTH=1000).test_client()
    body = assert_problem(client.post("/v1/verdicts/batch", json={"contacts": [contact] * 10}), 413)
    assert body["title"] == "Content Too Large"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(client, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    body = assert_problem(client.post("/v1/verdicts", data='{"a": 1}', **kwargs), 415)
    assert "application/json" in body["detail"]


def test_invalid_contact_is_422(client):
    body = assert_problem(client.post("/v1/verdicts", json={"contact_id": "x"}), 422)
    assert body["errors"]["contact_date"] == ["Missing data for required field."]


def test_invalid_query_is_422(client):
    body = assert_problem(client.get("/v1/policies?home_region=99&on=2022-03-01"), 422)
    assert set(body["errors"]) == {"home_region"}


def test_unexpected_error_is_500_without_internals_and_logged(make_app, caplog):
    app = make_app()

    @app.route("/test-only/explode")
    def explode():
        raise RuntimeError("secret connection string postgres://user:pw@db/prod")

    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = client.get("/test-only/explode")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret" not in text and "RuntimeError" not in text and "Traceback" not in text
    assert body["title"] == "Internal Server Error"
    logged = [r for r in caplog.records if r.name == "api.errors"]
    assert logged and logged[0].exc_info and "secret connection string" in str(logged[0].exc_info[1])


def test_500_raised_as_http_error_is_a_problem_too(make_app):
    from werkzeug.exceptions import InternalServerError

    app = make_app()

    @app.route("/test-only/abort")
    def abort_500():
        raise InternalServerError("database password is hunter2")

    response = app.test_client().get("/test-only/abort")
    assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)


CONTROL_CHARACTERS = ["\x00", "\t", "\n", "\x01", "\x1f", "\x7f"]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_control_characters_in_a_path_or_query_parameter_are_404_or_422(client, character):
    """PostgreSQL cannot even compare a NUL: such values never reach the database."""
    quoted = quote(f"x{character}y")
    assert_problem(client.get(f"/v1/decisions/{quoted}"), 404)
    assert_problem(client.get(f"/v1/contracts/{quoted}"), 404)
    assert_problem(client.get(f"/v1/contracts/{quoted}/audit"), 404)
    assert_problem(client.delete(f"/v1/contracts/{quoted}"), 404)
    for path in (f"/v1/decisions?contact_id={quoted}", f"/v1/decisions?cursor={quoted}"):
        response = client.get(path)
        assert_problem(response, 422)
        assert "control characters" in str(response.get_json()["errors"])
    assert_problem(client.get(f"/v1/contracts?provider_id={quoted}"), 422)
    assert_problem(client.get(f"/v1/decisions?reason=DIGITAL_TARIFF{quote(character)}"), 422)


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize("field", ["id", "provider_id", "source"])
def test_control_characters_in_a_contract_body_are_422_for_the_field(client, character, field):
    body = {
        "id": "contract-25-kry",
        "home_region": "25",
        "provider_id": "SE2321000230-KRY",
        "valid_from": "2023-01-01",
        "tariff_sek": {"physician": "400.00"},
        "source": "Avtal Dnr 99-2023",
        "fictitious": True,
    }
    body[field] = f"a{character}b" if field != "id" else f"contract-25-kry{character}"
    response = client.post("/v1/contracts", json=body)
    assert_problem(response, 422)
    assert list(response.get_json()["errors"]) == [field]
    assert client.get("/v1/contracts?provider_id=SE2321000230-KRY").get_json()["items"] == []


@pytest.mark.parametrize("key", ["name", "title"])
def test_control_characters_in_a_scenario_are_422(client, key):
    scenario = {"name": "what-if", "overrides": {}, key: "what\x00if"}
    response = client.post(
        "/v1/simulations", json={"generate": {"year": 2020, "count": 10}, "scenarios": [scenario]}
    )
    assert_problem(response, 422)
    assert list(response.get_json()["errors"]) == [f"scenarios[0].{key}"]


def test_a_contract_body_that_is_not_json_is_415_and_malformed_json_says_why(client):
    assert_problem(client.post("/v1/contracts", data="hello", content_type="text/plain"), 415)
    assert_problem(client.put("/v1/contracts/x", data="hello", content_type="text/plain"), 415)
    malformed = client.post("/v1/contracts", data="{bad", content_type="application/json")
    assert_problem(malformed, 400)
    assert "not valid JSON" in malformed.get_json()["detail"]


JSON_BODIES = [
    ("POST", "/v1/verdicts"),
    ("POST", "/v1/verdicts/batch"),
    ("POST", "/v1/contracts"),
    ("PUT", "/v1/contracts/x"),
    ("POST", "/v1/simulations"),
    ("POST", "/v1/simulations/readjudication"),
    ("POST", "/v1/policy-versions"),
    ("POST", "/v1/policy-versions/active/activate"),
    ("POST", "/v1/policy-versions/active/impact"),
    ("PUT", "/v1/shadow"),
]


@pytest.mark.parametrize(("method", "path"), JSON_BODIES)
def test_every_json_body_is_read_alike_an_integer_past_4300_digits_is_400_not_500(client, method, path):
    """Python refuses to convert an integer of over 4300 digits (a ValueError, not a JSON error):
    every body is read by json_io.read_json, which says it is not valid JSON."""
    huge = client.open(
        path, method=method, data='{"note": 1' + "0" * 5000 + "}", content_type="application/json"
    )
    assert "not valid JSON" in assert_problem(huge, 400)["detail"]
    assert_problem(client.open(path, method=method, data='{"note": "x"}', content_type="text/plain"), 415)


def test_a_deleted_contract_answers_204_with_no_body_and_no_content_type(client):
    body = {
        "id": "contract-to-delete",
        "home_region": "25",
        "provider_id": "SE2321000230-KRY",
        "valid_from": "2023-01-01",
        "source": "Avtal Dnr 99-2023",
        "fictitious": True,
    }
    assert client.post("/v1/contracts", json=body).status_code == 201
    deleted = client.delete("/v1/contracts/contract-to-delete")
    assert deleted.status_code == 204 and deleted.data == b""
    assert "Content-Type" not in deleted.headers


def test_a_tariff_for_a_profession_there_is_none_of_is_422_naming_it(client):
    body = dict(examples.contract_example(), id="contract-surgeon", tariff_sek={"surgeon": "900.00"})
    response = client.post("/v1/contracts", json=body)
    assert_problem(response, 422)
    assert response.get_json()["errors"] == {"tariff_sek.surgeon": ["Unknown field."]}
    assert client.get("/v1/contracts/contract-surgeon").status_code == 404


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/decisions", "0001-01-01T00:00:00+01:00|1"),
        ("/v1/decisions", "9999-12-31T23:59:59-01:00|1"),
        ("/v1/decisions", "2026-01-01T00:00:00+00:00|99999999999999999999999"),
        ("/v1/decisions", "2026-01-01T00:00:00+01:00|1"),  # not as this service writes one
        ("/v1/access-log", "reads|0001-01-01T00:00:00+01:00|1"),
    ],
)
def test_a_cursor_the_service_did_not_write_is_422_never_500(client, path, raw):
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    body = assert_problem(client.get(f"{path}?cursor={cursor}"), 422)
    assert "cursor" in body["errors"]


@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/contracts", "/v1/decisions/feed"])
def test_a_misspelt_query_parameter_is_a_422_naming_it(client, path):
    body = assert_problem(client.get(f"{path}?home_regoin=01"), 422)
    assert body["errors"] == {"home_regoin": ["Unknown field."]}


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/v1/decisions", "decision=pay&decision=no_pay"),
        ("GET", "/v1/decisions", "limit=1&limit=2"),
        ("GET", "/v1/decisions/feed", "limit=1&limit=2"),
        ("GET", "/v1/contracts", "home_region=25&home_region=01"),
        ("GET", "/v1/access-log", "client=a&client=b"),
        ("GET", "/v1/policies", "on=2022-03-01&on=2023-03-01&home_region=25"),
        ("GET", "/v1/policy-versions/active/diff", "against=active&against=active"),
        ("DELETE", "/v1/shadow", "note=a&note=b"),
    ],
)
def test_a_query_parameter_given_twice_is_a_422_naming_it(client, method, path, query):
    """Not the first value taken and the others dropped: the client would think it asked for both."""
    body = assert_problem(client.open(f"{path}?{query}", method=method), 422)
    assert body["errors"] == {query.split("=")[0]: ["Give this parameter once."]}


@pytest.mark.parametrize("path", ["/v1/decisions/19121212-1212", "/v1/contracts/c-19121212-1212"])
def test_a_404_does_not_say_the_id_back(client, path):
    """The id may be an identity number, or another region's: the answer names neither."""
    body = assert_problem(client.get(path), 404)
    assert "1212" not in body["detail"]
