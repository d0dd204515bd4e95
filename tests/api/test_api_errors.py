"""Every error class answers RFC 9457 application/problem+json, and a 500 tells nothing inside."""

import logging

import pytest

from api import create_app

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


def test_body_over_the_size_limit_is_413(contact):
    client = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1000}).test_client()
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


def test_unexpected_error_is_500_without_internals_and_logged(caplog):
    app = create_app({"TESTING": True})

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


def test_500_raised_as_http_error_is_a_problem_too():
    from werkzeug.exceptions import InternalServerError

    app = create_app({"TESTING": True})

    @app.route("/test-only/abort")
    def abort_500():
        raise InternalServerError("database password is hunter2")

    response = app.test_client().get("/test-only/abort")
    assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
