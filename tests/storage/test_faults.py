"""Faults (issue 4): a gunicorn worker killed with SIGKILL while batches are being posted, and the
PostgreSQL server stopped under a running service.

What "no decision is half-written" means here: a decision row is written in one statement of one
transaction, so it is never partly stored; and a request is one decision-log transaction
(api/blueprints/verdicts.py, api/storage/decision_log.py), so a batch is stored entirely (its
response was, or could have been, sent) or not at all (the worker died before COMMIT and the
client got no answer). A stored batch whose client got no answer is possible (killed between
COMMIT and the last byte sent): the client sends it again and gets the same decisions back
(idempotent), so that is not half-written.
"""

import http.client
import os
import signal
import sqlite3
import threading
import urllib.error
import urllib.request

import orjson
import psycopg
import pytest

from api import create_app
from api.storage import Storage
from api.storage.tables import decisions
from api.storage.unreachable import NOT_REACHABLE

from .gunicorn_server import running_gunicorn, worker_pids
from .helpers import contact
from .pgserver import TESTS_ICU_LOCALE, PrivatePostgres, available, libpq_url, wait_until

pytestmark = pytest.mark.slow

BATCH = 3000
RUN_SECONDS = 40  # upper bound on the wait for the first answers
NOT_NULL = tuple(column.name for column in decisions.columns if not column.nullable and column.name != "seq")


def _transaction_open(url: str) -> bool:
    """Some request of the service has a decision-log transaction open right now (only requests
    use the database, so one is in flight): the moment to kill its worker."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # fails at once while another writer holds the lock
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        ).fetchone()
        return count > 0


def _batch(tag: str) -> bytes:
    lines = [contact(f"{tag}-{i}", claimed_amount_sek=f"{100 + i % 700}.00") for i in range(BATCH)]
    lines[7] = {"contact_id": f"{tag}-bad", "home_region": "02"}  # a rejected line is not stored
    return orjson.dumps({"contacts": lines})


class Poster(threading.Thread):
    """Posts distinct batches back to back until told to stop; keeps every 200 answer."""

    def __init__(self, base: str, name: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.base, self.tag, self.stop = base, name, stop
        self.answered: dict[str, list[dict]] = {}  # batch tag -> verdicts received
        self.failed: list[str] = []  # batch tags whose request got no answer or a 5xx

    def run(self):
        n = 0
        while not self.stop.is_set():
            tag = f"{self.tag}-{n}"
            n += 1
            request = urllib.request.Request(
                self.base + "/v1/verdicts/batch",
                data=_batch(tag),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    body = orjson.loads(response.read())
                self.answered[tag] = body["verdicts"]
            # reset, closed, 502/503, or a body cut off mid-way (IncompleteRead is no OSError)
            except (urllib.error.HTTPError, OSError, http.client.HTTPException) as exc:
                self.failed.append(f"{tag}: {exc}")


def _rows(url: str) -> list[dict]:
    """Every stored decision, read with the driver (no code under test in between)."""
    columns = ", ".join(NOT_NULL)
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            cursor = conn.execute(f"SELECT {columns} FROM decisions")
            return [dict(zip(NOT_NULL, row, strict=True)) for row in cursor]
    with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
        cursor = conn.execute(f"SELECT {columns} FROM decisions")
        return [dict(zip(NOT_NULL, row, strict=True)) for row in cursor]


def test_kill_9_a_worker_while_batches_are_posted(db_url, tmp_path):
    Storage.open(db_url).close()  # migrate once, as a deployment would, before the workers start
    server = running_gunicorn(
        tmp_path / "gunicorn.log",
        workers=1,
        env={
            "GUNICORN_THREADS": "1",
            "DATABASE_URL": db_url,
            "GUNICORN_ACCESS_LOG": "",
            "LOG_LEVEL": "warning",
            "API_KEYS": None,
            "API_KEYS_FILE": None,
        },
    )
    with server as (base, proc):
        stop = threading.Event()
        posters = [Poster(base, f"k{i}", stop) for i in range(2)]
        killed = []
        try:
            for poster in posters:
                poster.start()
            assert wait_until(lambda: sum(len(p.answered) for p in posters) >= 2, timeout=RUN_SECONDS)
            # Kill the one worker while it has a batch's transaction open, three times; after each,
            # the master starts a new worker and batches are answered again.
            for _ in range(3):
                assert wait_until(lambda: _transaction_open(db_url), timeout=30, step=0.005)
                (victim,) = worker_pids(proc.pid)
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
                answered = sum(len(p.answered) for p in posters)
                assert wait_until(lambda n=answered: sum(len(p.answered) for p in posters) > n, timeout=30)
        finally:
            stop.set()
            for poster in posters:
                poster.join(timeout=90)

    failed = [f for p in posters for f in p.failed]
    assert killed and failed, "the kill did not interrupt any request: the fault was not exercised"
    rows = _rows(db_url)
    by_id = {row["decision_id"]: row for row in rows}
    assert len(by_id) == len(rows)

    # Every verdict a client received is stored, whole, exactly as received.
    received = 0
    for poster in posters:
        for tag, verdicts in poster.answered.items():
            assert len(verdicts) == BATCH - 1, tag
            for verdict in verdicts:
                row = by_id.get(verdict["decision_id"])
                assert row is not None, f"{tag}: {verdict['decision_id']} answered but not stored"
                assert all(row[column] is not None for column in NOT_NULL), row
                assert orjson.loads(row["verdict"]) == verdict
                assert row["contact_id"] == verdict["contact_id"]
                received += 1
    assert received > 0

    # No batch is half-written: every batch with any stored decision has all of them.
    per_batch: dict[str, int] = {}
    for row in rows:
        per_batch[row["contact_id"].rsplit("-", 1)[0]] = (
            per_batch.get(row["contact_id"].rsplit("-", 1)[0], 0) + 1
        )
    partial = {tag: count for tag, count in per_batch.items() if count != BATCH - 1}
    assert not partial, f"batches stored in part (tag: rows): {partial}"


@pytest.mark.skipif(not available(), reason="no PostgreSQL server binaries (PG_BIN)")
def test_postgresql_stopped_and_started_under_a_running_service(caplog):
    server = PrivatePostgres(icu_locale=TESTS_ICU_LOCALE)
    server.start()
    try:
        url = server.create_database("faults")
        app = create_app({"DATABASE_URL": url})
        client = app.test_client()
        try:
            before = client.post("/v1/verdicts", json=contact("before-outage"))
            assert before.status_code == 200
            assert client.get("/ready").status_code == 200

            server.stop("fast")
            down = client.post("/v1/verdicts", json=contact("during-outage"))
            assert down.status_code == 503, down.get_data(as_text=True)
            assert down.mimetype == "application/problem+json"
            assert down.headers["Retry-After"].isdigit()
            assert "decision_id" not in down.get_json()
            batch = client.post("/v1/verdicts/batch", json={"contacts": [contact("during-outage-batch")]})
            assert batch.status_code == 503 and batch.mimetype == "application/problem+json"
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.mimetype == "application/problem+json"
            why = ready.get_json()["checks"]["storage"]
            # What is wrong, with no host, port, user or driver message (those are logged).
            assert why == f"failing: {NOT_REACHABLE}", why
            assert "refused" in caplog.text.lower()  # the driver's reason is in the log

            server.start()  # same port: the service was not restarted and must find it again
            assert wait_until(lambda: client.get("/ready").status_code == 200, timeout=30)
            after = client.post("/v1/verdicts", json=contact("during-outage"))
            assert after.status_code == 200
            assert (
                client.post("/v1/verdicts/batch", json={"contacts": [contact("after-batch")]}).status_code
                == 200
            )
            stored = app.extensions["utomlans.storage"].decisions
            assert stored.get(before.get_json()["decision_id"])["verdict"] == before.get_json()
            assert stored.get(after.get_json()["decision_id"]) is not None
            assert stored.count() == 3  # nothing from the outage was stored
        finally:
            app.extensions["utomlans.storage"].close()
    finally:
        server.destroy()
