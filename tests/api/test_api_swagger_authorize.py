"""Swagger UI's Authorize button with region keys (issue 16 item 9): in headless Chromium against the
real server with keys, "Try it out" sends the key, and the key's regions decide what it may do."""

import json

import pytest
from browser import CHROMIUM, FLAGS

from api import examples
from api.keys import hash_key
from tests.storage.gunicorn_server import running_gunicorn

KEYS = {"billing-25": ("swagger-key-25", "25"), "billing-01": ("swagger-key-01", "01")}


@pytest.fixture
def keyed_server(tmp_path, app_db_url):
    keys = ";".join(f"{k}:{hash_key(secret)}:{regions}:verdicts" for k, (secret, regions) in KEYS.items())
    env = {"DATABASE_URL": app_db_url, "API_KEYS": keys, "API_KEYS_FILE": None}
    with running_gunicorn(tmp_path / "gunicorn.log", env=env, startup_timeout=30) as (base, _proc):
        yield base


def _authorize(page, secret: str) -> None:
    page.locator(".scheme-container button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    logout = dialog.locator("button.modal-btn.auth", has_text="Logout")
    if logout.count():
        logout.click()
    dialog.locator("input").fill(secret)
    dialog.locator("button.modal-btn.auth.authorize").click()
    dialog.locator("button.btn-done").click()


def _execute(operation, status: str) -> dict:
    """Run the operation's example; the response body once Swagger UI shows `status`."""
    operation.locator("button.execute").click()
    table = operation.locator(".responses-wrapper .live-responses-table")
    table.locator(".response-col_status", has_text=status).wait_for()
    return json.loads(table.locator(".response-col_description pre").first.inner_text())


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_swagger_ui_authorize_sends_the_key_and_its_regions_decide(keyed_server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(keyed_server + "/docs")
            operation = page.locator("#operations-verdicts-decide_contact")
            operation.wait_for()
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            # The example: a Norrbotten (25) resident's contact given in Jönköping (06).
            _authorize(page, KEYS["billing-25"][0])
            verdict = _execute(operation, "200")
            _authorize(page, KEYS["billing-01"][0])
            refused = _execute(operation, "403")
        finally:
            browser.close()
    assert verdict["contact_id"] == examples.NORRBOTTEN_VIDEO["contact_id"] and verdict["decision_id"]
    assert refused["status"] == 403 and refused["type"] == "about:blank"
    assert refused["detail"].startswith(
        "The API key acts for region 01; this contact's home_region is 25 and its care_region 06."
    )
