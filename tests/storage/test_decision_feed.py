"""GET /v1/decisions/feed: every committed decision exactly once, in the order found committed,
never one of a transaction still open, with a token to resume from on every page. SQLite and PostgreSQL."""

import threading

import orjson
import pytest

from api import create_app
from api.storage.decision_feed import _SQLITE_PAGE, _SQLITE_SCAN, decode_token, encode_token
from api.storage.decision_log import Transaction
from api.storage.engine import writing
from api.storage.feed_positions import COMMIT_LOCK, number_commits

from .helpers import api_keys, contact, eventually, pending, record

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


def test_a_decision_is_listed_after_the_one_it_supersedes_though_its_batch_began_first(storage):
    """A batch stores a first decision and stays open; meanwhile (PostgreSQL) a single decision of
    contact X commits; the batch then stores X's next decision, superseding it, and commits. The
    batch began first, its first row has the lower seq, and no reader came in between: still the
    feed lists X's decision before both of the batch's (the batch took its ticket after X
    committed), every decision once. (SQLite has one writer at a time: X commits before the batch
    begins.)"""
    postgresql = storage.engine.dialect.name == "postgresql"
    first, x, changed = (
        pending(contact("a-first")),
        pending(contact("x")),
        pending(contact("x", claimed_amount_sek="9.00")),
    )
    if not postgresql:
        record(storage, [x])
    with storage.decisions.transaction() as batch:
        batch.record([first])
        if postgresql:
            record(storage, [x])
        [sent] = batch.record([changed])
    assert orjson.loads(sent)["supersedes"] == x.decision_id
    assert _everything_after(storage, None) == [x.decision_id, first.decision_id, changed.decision_id]
    if postgresql:
        assert _seq(storage, first) < _seq(storage, x)


def _everything_after(storage, token) -> list[str]:
    seen = []
    while True:
        page = storage.feed.page(token, 2)
        if not page.items:
            return seen
        seen += [item["decision_id"] for item in page.items]
        token = page.next


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: one writer at a time
def test_on_postgresql_a_commit_does_not_wait_for_one_that_took_its_ticket_before_it(storage):
    """A transaction has inserted its row in decision_commits (its ticket) but not yet committed;
    another that stored a decision commits meanwhile, without waiting. The feed lists the one
    committed and nothing of the open one; once that commits too, it follows, from the token
    handed out before: nothing lands behind a token."""
    first = [pending(contact(f"first-{i}")) for i in range(3)]
    second = pending(contact("second"))
    numbered, release, committed, errors = threading.Event(), threading.Event(), threading.Event(), []

    def ticket_taken_but_not_committed():
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

    def commit_the_second():
        try:
            storage.decisions.record([second])
        except Exception as exc:  # reported below
            errors.append(exc)
        committed.set()

    holder = threading.Thread(target=ticket_taken_but_not_committed)
    holder.start()
    try:
        assert numbered.wait(timeout=60) and not errors
        follower = threading.Thread(target=commit_the_second)
        follower.start()
        assert committed.wait(timeout=30) and not errors  # it did not wait for the holder's commit
        follower.join(timeout=60)
        page = storage.feed.page(None)
        assert [item["decision_id"] for item in page.items] == [second.decision_id]
    finally:
        release.set()
        holder.join(timeout=60)
    assert not errors
    assert _everything_after(storage, page.next) == [entry.decision_id for entry in first]
    assert _ticket(storage, first[0]) < _ticket(storage, second)  # numbered later, though ticketed first


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: the writer numbers its own
def test_on_postgresql_a_numbering_that_waited_for_another_numbers_after_what_that_one_gave(storage):
    """Two feed reads number at once: the second waits for the first's lock, then numbers from what
    the first gave (its UPDATE's snapshot is taken after the lock: READ COMMITTED). A commit with the
    earlier ticket, still open during the first numbering and visible before the second began, is
    numbered after the first's commits: a reader holding a token from the first misses nothing."""
    early, late = pending(contact("early-ticket")), pending(contact("late-ticket"))
    with storage.engine.connect() as open_writer, storage.engine.connect() as first_numbering:
        writing_early = open_writer.begin()
        transaction = Transaction(open_writer)
        transaction.record([early])
        transaction.number_the_commit()  # its ticket, before late's; not committed
        storage.decisions.record([late])
        numbering = first_numbering.begin()
        number_commits(first_numbering)  # late gets the first feed position; the lock held
        writing_early.commit()  # early visible now, not numbered
        pages, errors = [], []

        def read():
            try:
                pages.append(storage.feed.page(None))
            except Exception as exc:  # reported below
                errors.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            eventually(_waiting_for_an_advisory_lock(storage), bool)
        finally:
            numbering.commit()
            reader.join(timeout=60)
    assert not errors
    assert [item["decision_id"] for item in pages[0].items] == [late.decision_id, early.decision_id]
    assert _ticket(storage, early) < _ticket(storage, late)


def _waiting_for_an_advisory_lock(storage):
    def waiting() -> int:
        with storage.engine.connect() as conn:
            query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            return conn.exec_driver_sql(query).scalar_one()

    return waiting


def _ticket(storage, entry) -> int:
    with storage.engine.connect() as conn:
        query = (
            "SELECT position FROM decision_commits JOIN decisions USING (tx) "
            f"WHERE decision_id = '{entry.decision_id}'"
        )
        return conn.exec_driver_sql(query).scalar_one()


def test_a_feed_read_with_nothing_new_to_number_does_not_wait_for_the_numbering_lock(storage):
    """Every commit is numbered already (after a first read; on SQLite by its writer): a read while
    another holds the lock numberings take (PostgreSQL: the advisory lock; SQLite: the write lock)
    answers at once, from the committed log, without a write transaction of its own."""
    entries = [pending(contact(f"n-{i}")) for i in range(3)]
    storage.decisions.record(entries)
    assert len(storage.feed.page(None).items) == 3
    answered, errors = threading.Event(), []

    def read():
        try:
            assert [item["decision_id"] for item in storage.feed.page(None).items] == [
                entry.decision_id for entry in entries
            ]
        except Exception as exc:  # reported below
            errors.append(exc)
        answered.set()

    with writing(storage.engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({COMMIT_LOCK})")
        reader = threading.Thread(target=read)
        reader.start()
        assert answered.wait(timeout=20)
    reader.join(timeout=60)
    assert not errors


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL sorts at most a page (LATERAL)
def test_on_sqlite_a_feed_page_reads_in_order_without_sorting_a_batch(storage):
    """A page reads the commits by feed position and each one's decisions by ix_decisions_tx, in
    (feed_position, seq) order as read: no sort, which would read the whole of a large batch for a
    page of it."""
    with storage.engine.connect() as conn:
        for query in (_SQLITE_PAGE, _SQLITE_SCAN):
            sql = str(query.compile(dialect=conn.dialect))
            values = (1,) * sql.count("?")
            plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, values)]
            assert any("ux_decision_commits_feed_position" in line for line in plan), plan
            assert any("ix_decisions_tx" in line for line in plan), plan
            assert not any("TEMP B-TREE" in line for line in plan), plan
