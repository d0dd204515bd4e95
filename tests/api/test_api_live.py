"""The real server: gunicorn with the shipped config (the `make run` command), and Swagger UI in
headless Chromium against it."""

import json
import re
import socket
import time
import urllib.parse
import urllib.request

import pytest
from browser import CHROMIUM, FLAGS

from api import examples


def _post(url: str, body) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


@pytest.mark.slow
def test_gunicorn_serves_a_batch_and_counts_it_across_workers(live_server):
    lines = []
    for n in range(500):
        line = dict(examples.NORRBOTTEN_VIDEO, contact_id=f"live-{n}")
        lines.append(line if n % 50 else {"contact_id": f"live-{n}", "home_region": "16"})
    status, body = _post(live_server + "/v1/verdicts/batch", {"contacts": lines})
    assert status == 200
    assert len(body["verdicts"]) == 490 and len(body["rejected"]) == 10
    assert [r["index"] for r in body["rejected"]] == list(range(0, 500, 50))
    assert body["summary"]["by_reason"]["DIGITAL_NOT_CONTRACTED"]["count"] == 490
    # Several requests, so both workers very likely answer some; /metrics adds up all workers.
    for n in range(10):
        _post(live_server + "/v1/verdicts", dict(examples.PHYSICAL_VISIT, contact_id=f"live-single-{n}"))
    metrics = _get(live_server + "/metrics")
    counted = re.search(
        r'utomlans_verdicts_total\{decision="pay",reason="OUTPATIENT_FREE_CHOICE"\} (\S+)', metrics
    )
    assert counted and float(counted.group(1)) == 10
    assert json.loads(_get(live_server + "/ready"))["status"] == "ready"


def _raw(base: str, request: bytes) -> tuple[int, dict, bytes]:
    """Send `request` as it is; (status, headers, body) of the answer (the server closes after it)."""
    url = urllib.parse.urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _http(line: str, *headers: str, body: bytes = b"") -> bytes:
    return "".join(f"{text}\r\n" for text in (line, "Host: x", *headers, "")).encode() + body


POST = "POST /v1/verdicts HTTP/1.1"
CHUNKED_JSON = ("Content-Type: application/json", "Transfer-Encoding: chunked")
ERRORS = {  # what a client may send -> the status of the problem it gets
    "request line past 8190 bytes": (_http(f"GET /v1/regions?q={'x' * 9000} HTTP/1.1"), 414),
    "a header past 8190 bytes": (_http("GET /health HTTP/1.1", "X-Big: " + "x" * 9000), 431),
    "more than 100 headers": (_http("GET /health HTTP/1.1", *["X-A: 1"] * 101), 431),
    "Content-Length not a number": (_http(POST, "Content-Length: ten", body=b"{}"), 400),
    "two Content-Lengths": (_http(POST, "Content-Length: 2", "Content-Length: 3", body=b"{}"), 400),
    "not HTTP": (b"HELLO THERE\r\n\r\n", 400),
    "a header name with a space": (_http("GET /health HTTP/1.1", "Bad Name: 1"), 400),
    "a malformed chunk": (_http(POST, *CHUNKED_JSON, body=b"zz\r\n{}\r\n0\r\n\r\n"), 400),
    "an unknown path": (_http("GET /v2/verdicts HTTP/1.1"), 404),
    "a method the path has not": (_http("DELETE /v1/regions HTTP/1.1"), 405),
}


@pytest.mark.slow
def test_every_error_the_server_answers_is_a_problem(live_server):
    """gunicorn's own errors (before the app is called) too: api/gunicorn_worker.py."""
    for case, (request, status) in ERRORS.items():
        answered, headers, body = _raw(live_server, request)
        assert (answered, headers.get("content-type")) == (status, "application/problem+json"), case
        problem = json.loads(body)
        assert problem["status"] == status and problem["type"] == "about:blank", case
        assert problem["title"] and problem["detail"], case
        assert int(headers["content-length"]) == len(body), case
    # The server still answers after all of these.
    assert json.loads(_get(live_server + "/health")) == {"status": "ok"}


@pytest.mark.slow
def test_access_log_is_one_json_object_per_line_whatever_the_client_sends(live_server, tmp_path):
    agent = 'odd "agent" \\ with quotes'
    request = urllib.request.Request(live_server + '/health?q="x\\y', headers={"User-Agent": agent})
    urllib.request.urlopen(request, timeout=10).close()
    deadline = time.monotonic() + 10
    while True:
        log = (tmp_path / "gunicorn.log").read_text()
        lines = [line for line in log.splitlines() if line.startswith("{")]
        entries = [json.loads(line) for line in lines]
        hits = [e for e in entries if e["user_agent"] == agent]
        if hits or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert hits, lines
    assert hits[0]["path"] == "/health" and hits[0]["status"] == 200 and hits[0]["query"] == 'q="x\\y'
    assert hits[0]["time"].endswith("Z") and isinstance(hits[0]["duration_us"], int)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_swagger_ui_try_it_out_gets_a_verdict(live_server):
    """...under the Content-Security-Policy /docs sends: the browser blocks nothing it loads or runs."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    outside_hosts = []
    blocked = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.on(
                "request",
                lambda request: (
                    None if request.url.startswith(live_server) else outside_hosts.append(request.url)
                ),
            )
            # Chromium logs what a Content-Security-Policy blocks as an error on the console.
            page.on("console", lambda msg: blocked.append(msg.text) if msg.type == "error" else None)
            response = page.goto(live_server + "/docs")
            assert "script-src 'self'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"
            operation = page.locator("#operations-verdicts-decide_contact")
            operation.wait_for()
            for op_id in ("verdicts-decide_batch", "catalogue-get_policy_in_force", "operations-health"):
                assert page.locator(f"#operations-{op_id}").count() == 1, op_id
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()
            body = operation.locator(".responses-wrapper .live-responses-table .response-col_description pre")
            body.first.wait_for()
            text = body.first.inner_text()
            page.locator("section.models h4").click()  # the schemas, with their icons
            page.locator("section.models .model-container").first.wait_for()
        finally:
            browser.close()
    verdict = json.loads(text)
    assert verdict["contact_id"] == examples.NORRBOTTEN_VIDEO["contact_id"]
    assert (verdict["decision"], verdict["reason"]) == ("no_pay", "DIGITAL_NOT_CONTRACTED")
    assert re.fullmatch(r"[0-9a-f-]{36}", verdict["decision_id"])
    assert outside_hosts == [], f"Swagger UI contacted other hosts: {outside_hosts}"
    assert blocked == [], f"blocked or failed in the browser: {blocked}"
