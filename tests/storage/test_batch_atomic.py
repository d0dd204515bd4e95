"""One request, one decision-log transaction: a batch issued in several chunks is stored all or
nothing, and only a successful response commits. SQLite and PostgreSQL."""

from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

import rules
from api import create_app
from api.storage import Storage, decision_log

from .helpers import Chunk, contact, eventually, pending
from .pgserver import libpq_url


@pytest.fixture
def app(db_url, monkeypatch):
    monkeypatch.delenv("API_KEYS", raising=False)
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    # 10 lines: chunks of 3, 3, 3, 1
    application = create_app({"DATABASE_URL": db_url, "BATCH_CHUNK_LINES": 3})
    yield application
    application.extensions["utomlans.storage"].close()


def _lines(tag):
    return {"contacts": [contact(f"{tag}-{i}") for i in range(10)]}


def test_a_batch_in_chunks_is_stored_whole(app):
    answer = app.test_client().post("/v1/verdicts/batch", json=_lines("whole"))
    assert answer.status_code == 200
    log = app.extensions["utomlans.storage"].decisions
    assert log.count() == 10
    for verdict in answer.get_json()["verdicts"]:
        stored = log.get(verdict["decision_id"])
        assert stored["verdict"] == verdict
        assert (stored["evaluated_at"], stored["contact_date"]) == (verdict["evaluated_at"], "2022-03-01")
        assert log.find(contact_id=verdict["contact_id"], reason=verdict["reason"]).items == [stored]


def test_text_that_copy_escapes_is_stored_as_sent(app):
    """PostgreSQL stores a batch's rows by COPY, whose text format gives backslashes and \\N a
    meaning of their own: such text, and text in other scripts, is stored and read back as sent."""
    ids = ["back\\slash", "\\N", "\\t not a tab", 'quote"d', "ünïcødé ✓ 中文", "trailing\\"]
    lines = {"contacts": [contact(contact_id, provider_id=f"P\\{contact_id}") for contact_id in ids]}
    answer = app.test_client().post("/v1/verdicts/batch", json=lines)
    assert answer.status_code == 200
    log = app.extensions["utomlans.storage"].decisions
    stored = [log.get(verdict["decision_id"]) for verdict in answer.get_json()["verdicts"]]
    assert [decision["contact_id"] for decision in stored] == ids
    assert [decision["contact"]["provider_id"] for decision in stored] == [f"P\\{i}" for i in ids]
    assert [decision["verdict"] for decision in stored] == answer.get_json()["verdicts"]


def test_a_failure_in_a_later_chunk_leaves_nothing_of_the_batch(app, monkeypatch):
    real = decision_log.Transaction._newest
    calls = []

    def third_chunk_fails(self, entries):
        calls.append(len(entries))
        if len(calls) == 3:
            raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
        return real(self, entries)

    monkeypatch.setattr(decision_log.Transaction, "_newest", third_chunk_fails)
    answer = app.test_client().post("/v1/verdicts/batch", json=_lines("broken"))
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert calls == [3, 3, 3]  # the third chunk's lookup failed, after two chunks were stored
    assert app.extensions["utomlans.storage"].decisions.count() == 0


def test_an_error_before_the_response_is_complete_rolls_back(app, monkeypatch):
    def summary_fails(*args, **kwargs):
        raise RuntimeError("bug after the verdicts were stored, before the answer was complete")

    monkeypatch.setattr(rules.Summary, "to_dict", summary_fails)
    answer = app.test_client().post("/v1/verdicts/batch", json=_lines("bug"))
    assert answer.status_code == 500
    assert app.extensions["utomlans.storage"].decisions.count() == 0
    # The service goes on: the next request is stored (no transaction or lock left behind).
    monkeypatch.undo()
    assert app.test_client().post("/v1/verdicts/batch", json=_lines("next")).status_code == 200
    assert app.extensions["utomlans.storage"].decisions.count() == 10


def test_a_database_error_in_a_chunk_sent_ahead_is_a_503_and_nothing_is_stored(postgresql_app_url):
    """PostgreSQL learns how a chunk's COPY went only after the next chunk is decided
    (decision_log.record_chunks). An error there is answered as any other: here the COPY waits for
    a lock past the statement time limit (reads go on). Nothing of the batch is stored,
    and the worker's next batch is stored whole."""
    config = {"DATABASE_URL": postgresql_app_url, "BATCH_CHUNK_LINES": 3, "STATEMENT_TIMEOUT_MS": 200}
    app = create_app(config)
    client = app.test_client()
    log = app.extensions["utomlans.storage"].decisions
    try:
        with psycopg.connect(libpq_url(postgresql_app_url)) as locker:
            locker.execute("LOCK TABLE decisions IN SHARE MODE")
            answer = client.post("/v1/verdicts/batch", json=_lines("locked"))
            locker.rollback()
        assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
        assert "limit of 200 ms" in answer.get_json()["detail"]
        assert log.count() == 0
        again = client.post("/v1/verdicts/batch", json=_lines("after"))
        assert again.status_code == 200
        assert log.count() == 10
    finally:
        app.extensions["utomlans.storage"].close()


def test_a_batch_takes_at_most_64_savepoints_and_stores_every_line(postgresql_app_url):
    """PostgreSQL stores a batch's chunk by COPY in a savepoint, a subtransaction: past 64 of them
    every session's snapshot would overflow while the batch is open, so later chunks are stored by
    INSERT in the batch's own transaction. Each row's xmin names the (sub)transaction that wrote it."""
    app = create_app({"DATABASE_URL": postgresql_app_url, "BATCH_CHUNK_LINES": 1})
    lines = decision_log.MAX_SAVEPOINTS + 6
    try:
        batch = {"contacts": [contact(f"many-{i}") for i in range(lines)]}
        answer = app.test_client().post("/v1/verdicts/batch", json=batch)
        assert answer.status_code == 200
        assert len(answer.get_json()["verdicts"]) == lines
        with psycopg.connect(libpq_url(postgresql_app_url)) as conn:
            writers = conn.execute("SELECT count(DISTINCT xmin::text) FROM decisions").fetchone()[0]
            stored = {
                row[0]: row[1:]
                for row in conn.execute("SELECT decision_id, amount_ore, revision FROM decisions")
            }
        assert writers == decision_log.MAX_SAVEPOINTS + 1  # 64 savepoints, then the transaction itself
        # Every line stored, by COPY or by INSERT, with its amount (in öre) and revision.
        verdicts = answer.get_json()["verdicts"]
        assert stored == {v["decision_id"]: (int(Decimal(v["amount_sek"]) * 100), 1) for v in verdicts}
    finally:
        app.extensions["utomlans.storage"].close()


def test_a_connection_lost_while_a_chunk_is_sent_ahead_is_an_outage_and_the_next_write_is_stored(
    postgresql_app_url,
):
    """The database drops the batch's connection (a restart, a network cut) while a chunk's COPY
    is open and the next chunk is being decided: the batch fails as an outage (OperationalError: a
    503), nothing of it is stored, and the next write is stored on a new connection."""
    storage = Storage.open(postgresql_app_url)
    admin_url = libpq_url(postgresql_app_url)

    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"

    def chunks():
        yield Chunk([pending(contact(f"lost-{i}")) for i in range(3)])
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"SELECT pg_terminate_backend(pid) {others}")
            eventually(lambda: admin.execute(f"SELECT count(*) {others}").fetchone()[0], lambda n: n == 0)
        yield Chunk([pending(contact("lost-3"))])

    try:
        with pytest.raises(OperationalError), storage.decisions.transaction() as transaction:
            for _ in transaction.record_chunks(chunks()):
                pass
        storage.decisions.record([pending(contact("after"))])
        assert [d["contact_id"] for d in storage.decisions.find().items] == ["after"]
    finally:
        storage.close()
