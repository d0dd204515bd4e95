"""GET /v1/decisions/feed: every committed decision exactly once, in commit order, never one of a
transaction still open, with a token to resume from on every page. SQLite and PostgreSQL."""

import threading

import pytest

from api import create_app
from api.storage.decision_feed import decode_token, encode_token
from api.storage.decision_log import Transaction
from api.storage.engine import writing

from .helpers import api_keys, contact, pending, record
from .pgserver import wait_until

KEYS = {
    "reader": ("s3cret-reader", "verdicts,decisions:read"),
    "writer": ("s3cret-writer", "verdicts"),
}


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


@pytest.fixture
def client(db_url, monkeypatch):
    monkeypatch.setenv("API_KEYS", api_keys(KEYS))
    app = create_app({"DATABASE_URL": db_url})
    yield app.test_client()
    app.extensions["utomlans.storage"].close()


def read_feed(client, after=None, limit=None):
    query = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
    response = client.get("/v1/decisions/feed", query_string=query, headers=bearer("reader"))
    assert response.status_code == 200, response.json
    return response.json


def test_the_feed_pages_through_every_decision_exactly_once_and_resumes_after_the_end(client):
    empty = read_feed(client)
    assert empty["items"] == [] and empty["next"]  # a start token, even on an empty log
    answered = [
        client.post("/v1/verdicts", json=contact(f"s-{i}"), headers=bearer("writer")).json for i in range(3)
    ]
    batch = client.post(
        "/v1/verdicts/batch",
        json={"contacts": [contact(f"b-{i}") for i in range(11)] + [contact("s-0")]},  # s-0: a repeat
        headers=bearer("writer"),
    ).json
    answered += batch["verdicts"][:11]
    changed = client.post(
        "/v1/verdicts", json=contact("s-1", claimed_amount_sek="1.00"), headers=bearer("writer")
    )
    answered.append(changed.json)

    seen, token = [], empty["next"]
    while True:
        page = read_feed(client, token, limit=4)
        assert len(page["items"]) <= 4
        seen += page["items"]
        assert page["next"]
        if not page["items"]:
            assert page["next"] == token  # nothing new: resume from the same place
            break
        token = page["next"]
    assert [item["decision_id"] for item in seen] == [a["decision_id"] for a in answered]
    listed = client.get("/v1/decisions?limit=1000", headers=bearer("reader")).json["items"]
    assert sorted(seen, key=lambda d: d["decision_id"]) == sorted(listed, key=lambda d: d["decision_id"])
    assert seen[-1]["supersedes"] == answered[1]["decision_id"]

    later = client.post("/v1/verdicts", json=contact("s-9"), headers=bearer("writer")).json
    assert [item["decision_id"] for item in read_feed(client, token)["items"]] == [later["decision_id"]]
    assert read_feed(client)["items"] == seen + [read_feed(client, token)["items"][0]]  # from the start


def test_a_malformed_token_or_limit_is_a_422_naming_the_parameter(client):
    for query, field in (
        ({"after": "not-a-token"}, "after"),
        ({"after": encode_token(1, 2) + "!"}, "after"),
        ({"after": "ZmVlZDoxOjAy"}, "after"),  # feed:1:02
        ({"after": encode_token(2**63, 0)}, "after"),
        ({"after": "ZmVlZDotMTow"}, "after"),  # feed:-1:0
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "x"}, "since"),
    ):
        response = client.get("/v1/decisions/feed", query_string=query, headers=bearer("reader"))
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"
        assert field in response.json["errors"], response.json


def test_the_feed_needs_the_decisions_read_scope(client):
    assert client.get("/v1/decisions/feed").status_code == 401
    forbidden = client.get("/v1/decisions/feed", headers=bearer("writer"))
    assert forbidden.status_code == 403 and forbidden.content_type == "application/problem+json"
    assert client.get("/v1/decisions/feed", headers=bearer("reader")).status_code == 200


def test_a_token_round_trips_and_a_foreign_one_is_refused():
    assert decode_token(encode_token(12, 345)) == (12, 345)
    for token in ("", "eA", "ZmVlZDoxOjI6Mw", "Y3Vyc29yOjE6Mg"):  # "", "x", "feed:1:2:3", "cursor:1:2"
        with pytest.raises(ValueError):
            decode_token(token)


def test_a_batch_still_open_is_not_in_the_feed_and_comes_whole_after_its_commit(storage):
    """A batch written in one transaction, held open; meanwhile (PostgreSQL, where writers run side
    by side) a single decision commits: the feed has it, and not a row of the batch, though the
    batch's rows were inserted first (lower seq). Once the batch commits, its rows follow, each once.
    (SQLite has one writer at a time: the single decision waits for the batch and comes after it.)"""
    postgresql = storage.engine.dialect.name == "postgresql"
    [earlier] = record(storage, [pending(contact("before"))])
    batch = [pending(contact(f"open-{i}")) for i in range(30)]
    stored, release, errors = threading.Event(), threading.Event(), []

    def write_batch():
        try:
            with storage.decisions.transaction() as transaction:
                transaction.record(batch)
                stored.set()
                assert release.wait(timeout=60)
        except Exception as exc:  # reported below
            errors.append(exc)
            stored.set()

    writer = threading.Thread(target=write_batch)
    writer.start()
    try:
        assert stored.wait(timeout=60) and not errors
        page = storage.feed.page(None, 1000)
        assert [item["decision_id"] for item in page.items] == [earlier["decision_id"]]
        token = page.next
        single = pending(contact("during"))
        if postgresql:
            record(storage, [single])
            page = storage.feed.page(token, 1000)
            assert [item["decision_id"] for item in page.items] == [single.decision_id]
            token = page.next
    finally:
        release.set()
        writer.join(timeout=60)
    assert not errors
    if not postgresql:
        record(storage, [single])
    expected = [entry.decision_id for entry in batch]
    expected = expected if postgresql else expected + [single.decision_id]
    seen = []
    while True:
        page = storage.feed.page(token, 7)
        if not page.items:
            break
        seen += [item["decision_id"] for item in page.items]
        token = page.next
    assert seen == expected
    if postgresql:  # the single decision was inserted after the batch's rows, and committed first
        assert _seq(storage, single) > max(_seq(storage, entry) for entry in batch)


def _seq(storage, entry) -> int:
    with storage.engine.connect() as conn:
        query = f"SELECT seq FROM decisions WHERE decision_id = '{entry.decision_id}'"
        return conn.exec_driver_sql(query).scalar_one()


def test_a_reader_tailing_the_feed_while_writers_commit_misses_nothing(storage):
    """Writers store single decisions and batches side by side while a reader follows the feed from
    its tokens: at the end the reader has every decision stored, each once."""
    writers, errors = 4, []
    start = threading.Barrier(writers + 1)

    def write(n):
        try:
            start.wait(timeout=10)
            for round_ in range(12):
                size = 1 if round_ % 3 else 25
                storage.decisions.record([pending(contact(f"w{n}-{round_}-{i}")) for i in range(size)])
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    seen, token = [], None
    start.wait(timeout=10)
    while True:
        finished = not any(thread.is_alive() for thread in threads)  # before reading: a last page after
        page = storage.feed.page(token, 10)
        seen += [item["decision_id"] for item in page.items]
        token = page.next
        if finished and not page.items:
            break
    for thread in threads:
        thread.join()
    assert not errors
    assert len(seen) == len(set(seen)) == storage.decisions.count() == writers * (8 * 1 + 4 * 25)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: one writer at a time
def test_on_postgresql_a_commit_numbered_after_another_waits_until_that_one_is_visible(storage):
    """The lock that keeps positions in commit order: a transaction has taken its position but not
    yet committed; another that stored a decision waits to take the next one, so a reader can never
    see position 2 while position 1 may still appear behind it."""
    first = [pending(contact(f"first-{i}")) for i in range(3)]
    second = pending(contact("second"))
    numbered, release, errors = threading.Event(), threading.Event(), []

    def numbered_but_not_committed():
        try:
            with writing(storage.engine) as conn:
                transaction = Transaction(conn)
                transaction.record(first)
                transaction.number_the_commit()
                numbered.set()
                assert release.wait(timeout=60)
        except Exception as exc:  # reported below
            errors.append(exc)
            numbered.set()

    holder = threading.Thread(target=numbered_but_not_committed)
    holder.start()
    assert numbered.wait(timeout=60) and not errors
    follower = threading.Thread(target=lambda: storage.decisions.record([second]))
    follower.start()
    try:
        assert wait_until(lambda: _waiting_for_an_advisory_lock(storage), timeout=30)
        assert storage.feed.page(None).items == []
    finally:
        release.set()
        holder.join(timeout=60)
        follower.join(timeout=60)
    assert not errors
    ids = [item["decision_id"] for item in storage.feed.page(None).items]
    assert ids == [entry.decision_id for entry in first] + [second.decision_id]


def _waiting_for_an_advisory_lock(storage) -> bool:
    with storage.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return conn.exec_driver_sql(query).scalar_one() > 0
