"""A body over the size limit is a 413 problem and nothing is decided or stored, whether it comes
with a Content-Length or chunked (Transfer-Encoding: chunked, no length): a chunked body used to be
cut at the limit and the cut parsed, so a valid contact padded with spaces past the limit and
followed by garbage was decided and stored."""

import copy
import http.client
import io
import json
import socket
import urllib.request

import pytest

from api import examples
from api.config import MB
from tests.storage.gunicorn_server import running_gunicorn

PROBLEM = "application/problem+json"
LIMIT = 4096


def _padded(document: dict, limit: int) -> bytes:
    """`document` as JSON padded with spaces to exactly `limit` bytes, then garbage: what is cut at
    the limit is valid JSON, the whole body is not."""
    text = json.dumps(document).encode()
    assert len(text) < limit
    return text + b" " * (limit - len(text)) + b"}{ not JSON"


def _chunked(client, method: str, path: str, body: bytes):
    """A request as a chunked body reaches the app behind gunicorn: no Content-Length, and the server
    says it ends the stream (wsgi.input_terminated)."""
    return client.open(
        path,
        method=method,
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def _contact(contact_id: str) -> dict:
    return dict(copy.deepcopy(examples.NORRBOTTEN_VIDEO), contact_id=contact_id)


def _contract() -> dict:
    return dict(examples.contract_example(), id="contract-over-the-limit")


BODIES = {
    ("POST", "/v1/verdicts"): lambda: _contact("cut-1"),
    ("POST", "/v1/verdicts/batch"): lambda: {"contacts": [_contact("cut-1"), _contact("cut-2")]},
    ("POST", "/v1/contracts"): _contract,
    ("PUT", "/v1/contracts/contract-over-the-limit"): _contract,
    ("POST", "/v1/simulations"): lambda: {"contacts": [_contact("cut-1")], "scenarios": ["in_force"]},
    ("POST", "/v1/simulations/readjudication"): lambda: {"scenario": "national_only"},
}


def _nothing_stored(client) -> None:
    assert client.get("/v1/decisions").get_json()["items"] == []
    assert client.get(f"/v1/contracts?provider_id={_contract()['provider_id']}").get_json()["items"] == []


@pytest.mark.parametrize(("method", "path"), list(BODIES))
def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_stored(make_app, method, path):
    client = make_app(MAX_CONTENT_LENGTH=LIMIT).test_client()
    response = _chunked(client, method, path, _padded(BODIES[method, path](), LIMIT))
    assert response.status_code == 413 and response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 413 and f"{LIMIT:,} bytes" in body["detail"]
    _nothing_stored(client)


@pytest.mark.parametrize(("method", "path"), list(BODIES))
def test_a_body_with_a_content_length_over_the_limit_is_413_and_nothing_is_stored(make_app, method, path):
    client = make_app(MAX_CONTENT_LENGTH=LIMIT).test_client()
    response = client.open(
        path, method=method, data=_padded(BODIES[method, path](), LIMIT), content_type="application/json"
    )
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert f"{LIMIT:,} bytes" in response.get_json()["detail"]
    _nothing_stored(client)


def test_a_chunked_body_of_exactly_the_limit_is_decided(make_app):
    client = make_app(MAX_CONTENT_LENGTH=LIMIT).test_client()
    text = json.dumps(_contact("at-the-limit")).encode()
    response = _chunked(client, "POST", "/v1/verdicts", text + b" " * (LIMIT - len(text)))
    assert response.status_code == 200
    assert response.get_json()["contact_id"] == "at-the-limit"


def test_a_body_shorter_than_its_content_length_is_400_and_nothing_is_stored(make_app):
    """Behind gunicorn a client that stops sending early ends the stream (wsgi.input_terminated): what
    arrived must not be taken for the whole body."""
    client = make_app().test_client()
    text = json.dumps(_contact("short")).encode()
    response = client.post(
        "/v1/verdicts",
        input_stream=io.BytesIO(text),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": str(len(text) + 100)},
    )
    assert (response.status_code, response.mimetype) == (400, PROBLEM)
    assert "ended after" in response.get_json()["detail"]
    _nothing_stored(client)


def _send_short(base: str, path: str, body: bytes, announced: int) -> tuple[int, str]:
    """Announce `announced` bytes, send `body` (fewer), then stop sending."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {announced}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        sock.shutdown(socket.SHUT_WR)
        head = sock.makefile("rb").read().split(b"\r\n\r\n", 1)[0].decode()
    status = int(head.split()[1])
    content_type = next(
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("content-type:")
    )
    return status, content_type


def _send_chunked(base: str, path: str, body: bytes) -> tuple[int, str, dict]:
    """POST `body` with Transfer-Encoding: chunked, as http.client sends an iterable of unknown length."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        pieces = (body[start : start + 65536] for start in range(0, len(body), 65536))
        connection.request(
            "POST", path, body=pieces, headers={"Content-Type": "application/json"}, encode_chunked=True
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def small_limit_server(tmp_path, app_db_url):
    """gunicorn as `make run` starts it, with a 1 MiB body limit, on SQLite and then PostgreSQL."""
    with running_gunicorn(
        tmp_path / "gunicorn.log",
        env={"DATABASE_URL": app_db_url, "UTOMLANS_MAX_BODY_MB": "1"},
        startup_timeout=30,
    ) as (base, _proc):
        yield base


@pytest.mark.slow
def test_gunicorn_answers_a_chunked_body_over_the_limit_with_413_and_stores_nothing(small_limit_server):
    base = small_limit_server
    status, content_type, body = _send_chunked(base, "/v1/verdicts", _padded(_contact("live-cut"), MB))
    assert (status, content_type) == (413, PROBLEM)
    assert body["status"] == 413
    status, _, body = _send_chunked(
        base, "/v1/verdicts/batch", _padded({"contacts": [_contact("live-cut-batch")]}, MB)
    )
    assert status == 413
    with urllib.request.urlopen(base + "/v1/decisions", timeout=10) as response:
        assert json.loads(response.read())["items"] == []
    text = json.dumps(_contact("live-short")).encode()
    assert _send_short(base, "/v1/verdicts", text, len(text) + 100) == (400, PROBLEM)
    # A chunked body under the limit is decided as before.
    status, _, body = _send_chunked(base, "/v1/verdicts", json.dumps(_contact("live-whole")).encode())
    assert status == 200 and body["contact_id"] == "live-whole"
