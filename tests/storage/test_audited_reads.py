"""Audited reads (issue 16 item 8): every answer that returns decisions is recorded before it is
sent, with the key id, the endpoint and query and exactly the decision ids returned; GET
/v1/access-log (scope audit:read) answers who saw what. SQLite and PostgreSQL."""

import json
import sqlite3
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta, timezone
from itertools import combinations

import psycopg
import pytest
from alembic import command
from sqlalchemy import insert, inspect

from api import create_app
from api.keys import hash_key
from api.storage import Storage, make_engine
from api.storage.decision_log import encode_cursor as decision_cursor
from api.storage.migrate import alembic_config, upgrade
from api.storage.read_audit import find_query
from api.storage.tables import decision_read_items, decision_reads

from .gunicorn_server import running_gunicorn
from .helpers import api_keys, contact
from .pgserver import libpq_url, wait_until

KEYS = {
    "billing": ("s3cret-billing", "verdicts,decisions:read"),
    "analyst": ("s3cret-analyst", "decisions:read"),
    "auditor": ("s3cret-auditor", "audit:read"),
}


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


@pytest.fixture
def app(db_url, monkeypatch):
    monkeypatch.setenv("API_KEYS", api_keys(KEYS))
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    application = create_app({"DATABASE_URL": db_url})
    yield application
    application.extensions["utomlans.storage"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def decide(client, count: int, prefix: str = "r") -> list[str]:
    ids = []
    for i in range(count):
        answer = client.post("/v1/verdicts", json=contact(f"{prefix}-{i}"), headers=bearer("billing"))
        assert answer.status_code == 200, answer.json
        ids.append(answer.json["decision_id"])
    return ids


def access_log(http, **query) -> list[dict]:
    """Every record matching the query, page by page."""
    items, cursor = [], None
    while True:
        page = http.get(
            "/v1/access-log",
            query_string={**query, **({"cursor": cursor} if cursor else {})},
            headers=bearer("auditor"),
        )
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return items


def test_each_answer_that_returns_decisions_is_recorded_with_exactly_the_ids_it_returned(client):
    ids = decide(client, 5)
    assert access_log(client) == []  # deciding is not reading
    one = client.get(f"/v1/decisions/{ids[2]}", headers=bearer("billing"))
    first = client.get("/v1/decisions?home_region=25&limit=3", headers=bearer("billing")).json
    rest = client.get(
        "/v1/decisions", query_string={"limit": 3, "cursor": first["next_cursor"]}, headers=bearer("analyst")
    ).json
    feed = client.get("/v1/decisions/feed?limit=4", headers=bearer("billing")).json
    readjudication = client.post(
        "/v1/simulations/readjudication",
        json={
            "scenario": "national_only",
            "home_region": "25",
            "contact_date_from": "2022-01-01",
            "limit": 4,
        },
        headers=bearer("analyst"),
    ).json
    changed = [item["decision_id"] for item in readjudication["changed"]["items"]]
    assert changed and len(changed) == 4  # each contact is paid under the national rules alone

    records = access_log(client)
    assert [(r["client"], r["method"], r["path"], r["query"], r["decision_ids"]) for r in records] == [
        ("billing", "GET", f"/v1/decisions/{ids[2]}", "", [one.json["decision_id"]]),
        (
            "billing",
            "GET",
            "/v1/decisions",
            "home_region=25&limit=3",
            [d["decision_id"] for d in first["items"]],
        ),
        (
            "analyst",
            "GET",
            "/v1/decisions",
            f"limit=3&cursor={first['next_cursor']}",
            [d["decision_id"] for d in rest["items"]],
        ),
        ("billing", "GET", "/v1/decisions/feed", "limit=4", [d["decision_id"] for d in feed["items"]]),
        (
            "analyst",
            "POST",
            "/v1/simulations/readjudication",
            "home_region=25&contact_date_from=2022-01-01&limit=4",
            changed,
        ),
    ]
    assert [d["decision_id"] for d in first["items"] + rest["items"]] == ids
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    stamps = [datetime.fromisoformat(r["at"]) for r in records]
    assert stamps == sorted(stamps) and all(s.tzinfo is not None for s in stamps)


def test_an_empty_page_and_a_404_by_id_are_recorded_with_no_decision(client):
    """A 404 is recorded as an attempt: its path names the id asked for (a guess, or under region
    scoping a decision the key may not read), so probing shows in the access log. An id no
    decision can have is not looked up, so not recorded; nor is a request refused as invalid."""
    [decided] = decide(client, 1)
    feed_end = client.get("/v1/decisions/feed", headers=bearer("billing")).json["next"]
    unknown = str(uuid.uuid4())
    answers = [
        client.get("/v1/decisions?contact_id=nobody", headers=bearer("billing")),
        client.get("/v1/decisions/feed", query_string={"after": feed_end}, headers=bearer("billing")),
        client.get(f"/v1/decisions/{unknown}", headers=bearer("analyst")),
        client.get("/v1/decisions/" + "x" * 37, headers=bearer("billing")),  # not looked up
        client.get("/v1/decisions?cursor=nonsense", headers=bearer("billing")),  # 422
        client.get("/v1/decisions/feed?after=nonsense", headers=bearer("billing")),  # 422
        client.get(f"/v1/decisions/{decided}"),  # 401
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 404, 422, 422, 401]
    assert answers[0].json["items"] == [] and answers[1].json["items"] == []
    records = access_log(client)
    assert [(r["client"], r["path"], r["query"], r["decision_ids"]) for r in records] == [
        ("billing", "/v1/decisions/feed", "", [decided]),  # where feed_end came from
        ("billing", "/v1/decisions", "contact_id=nobody", []),
        ("billing", "/v1/decisions/feed", f"after={feed_end}", []),
        ("analyst", f"/v1/decisions/{unknown}", "", []),
    ]
    assert access_log(client, decision_id=unknown) == []  # nobody saw it


def test_a_query_string_with_any_bytes_is_recorded_as_sent_in_printable_text(client):
    """A query the view does not read (GET by id takes none) may hold anything a client sends: a
    byte that is no printable ASCII is recorded percent-encoded (PostgreSQL's text holds no NUL)."""
    [decided] = decide(client, 1)
    raw = "note=a\x00b\x01 \xe9&ok=%41+1"  # as WSGI hands it over: one character per byte
    answer = client.get(
        f"/v1/decisions/{decided}", environ_overrides={"QUERY_STRING": raw}, headers=bearer("billing")
    )
    assert answer.status_code == 200
    [record] = access_log(client)
    assert record["query"] == "note=a%00b%01%20%E9&ok=%41+1" and record["decision_ids"] == [decided]


def test_the_access_log_filters_by_client_period_and_decision_and_pages(client):
    ids = decide(client, 6)
    for i in range(6):
        reader = "billing" if i % 2 else "analyst"
        client.get(f"/v1/decisions/{ids[i]}", headers=bearer(reader))
        client.get(f"/v1/decisions?limit=2&contact_id=r-{i}", headers=bearer(reader))
    client.get("/v1/decisions?limit=1000", headers=bearer("analyst"))
    everything = access_log(client)
    assert len(everything) == 13

    who_saw = access_log(client, decision_id=ids[3])
    assert [(r["client"], r["path"]) for r in who_saw] == [
        ("billing", f"/v1/decisions/{ids[3]}"),
        ("billing", "/v1/decisions"),
        ("analyst", "/v1/decisions"),
    ]
    assert access_log(client, decision_id=ids[3], client="analyst") == who_saw[2:]
    assert access_log(client, client="billing") == [r for r in everything if r["client"] == "billing"]
    assert access_log(client, client="nobody") == []

    low, high = everything[3]["at"], everything[8]["at"]
    period = access_log(client, **{"from": low, "to": high})
    assert period == [r for r in everything if low <= r["at"] <= high] and len(period) >= 6
    assert access_log(client, **{"from": low, "to": high, "client": "analyst", "decision_id": ids[4]}) == [
        r for r in period if r["client"] == "analyst" and ids[4] in r["decision_ids"]
    ]
    # In the Stockholm offset, as a client may write it: the same moment.
    stockholm = datetime.fromisoformat(low).astimezone(timezone(timedelta(hours=1))).isoformat()
    assert access_log(client, **{"from": stockholm}) == everything[3:]

    for limit in (1, 2, 5):  # pages of any size give the same records once each
        assert access_log(client, limit=limit) == everything
    assert access_log(client, decision_id=ids[0], limit=1) == access_log(client, decision_id=ids[0])


def test_a_bad_query_is_a_422_naming_the_parameter(client):
    decide(client, 1)
    client.get("/v1/decisions", headers=bearer("billing"))
    client.get("/v1/decisions", headers=bearer("billing"))
    page = client.get("/v1/access-log?limit=1", headers=bearer("auditor")).json
    assert page["next_cursor"]
    for query, field in (
        ({"cursor": "nonsense"}, "cursor"),
        ({"cursor": page["next_cursor"] + "A"}, "cursor"),
        ({"cursor": decision_cursor(datetime.now(UTC), 1)}, "cursor"),  # the decision log's, not this one's
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"from": "2024-01-01"}, "from"),  # no time zone
        ({"from": "2024-01-02T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, "to"),
        ({"decision_id": "x" * 37}, "decision_id"),
        ({"client": "a\x01b"}, "client"),
        ({"key": "billing"}, "key"),
    ):
        answer = client.get("/v1/access-log", query_string=query, headers=bearer("auditor"))
        assert answer.status_code == 422, query
        assert answer.content_type == "application/problem+json"
        assert field in answer.json["errors"], (query, answer.json)


def test_the_access_log_needs_the_audit_read_scope_and_cannot_be_changed(client):
    assert client.get("/v1/access-log").status_code == 401
    for reader in ("billing", "analyst"):
        forbidden = client.get("/v1/access-log", headers=bearer(reader))
        assert forbidden.status_code == 403 and forbidden.content_type == "application/problem+json"
        assert "audit:read" in forbidden.json["detail"]
    assert (
        client.get("/v1/decisions", headers=bearer("auditor")).status_code == 403
    )  # auditing is not reading
    assert client.get("/v1/access-log", headers=bearer("auditor")).status_code == 200
    for method in ("post", "put", "patch", "delete"):  # append-only: no operation changes a record
        assert getattr(client, method)("/v1/access-log", headers=bearer("auditor")).status_code == 405
        assert getattr(client, method)("/v1/access-log/1", headers=bearer("auditor")).status_code == 404


@pytest.fixture
def writes_blocked(db_url, monkeypatch):
    """A context in which nothing can be written to decision_reads while decisions stay readable:
    SQLite, another connection holding the write lock (and a short busy timeout); PostgreSQL, a
    lock on the table (and a short statement time limit)."""
    from contextlib import contextmanager

    @contextmanager
    def blocked():
        if db_url.startswith("sqlite"):
            holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
        else:
            holder = psycopg.connect(libpq_url(db_url))
            holder.execute("LOCK TABLE decision_reads IN EXCLUSIVE MODE")  # reads of it go on
        try:
            yield
        finally:
            holder.close()  # and its transaction with it

    monkeypatch.setattr("api.storage.engine.BUSY_TIMEOUT_MS", 200)
    return blocked


def test_an_answer_that_cannot_be_recorded_is_not_sent(db_url, monkeypatch, writes_blocked):
    monkeypatch.setenv("API_KEYS", api_keys(KEYS))
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    app = create_app({"DATABASE_URL": db_url, "STATEMENT_TIMEOUT_MS": 300})
    try:
        client = app.test_client()
        [decided] = decide(client, 1)
        with writes_blocked():
            answers = [
                client.get(f"/v1/decisions/{decided}", headers=bearer("billing")),
                client.get("/v1/decisions", headers=bearer("billing")),
                client.get("/v1/decisions/feed", headers=bearer("billing")),
            ]
        for answer in answers:
            assert answer.status_code == 503, answer.get_data(as_text=True)
            assert answer.mimetype == "application/problem+json" and answer.headers["Retry-After"]
            assert set(answer.json) <= {"type", "title", "status", "detail", "instance"}  # a problem only
        assert access_log(client) == []
        assert client.get(f"/v1/decisions/{decided}", headers=bearer("billing")).status_code == 200
        assert [r["decision_ids"] for r in access_log(client)] == [[decided]]
    finally:
        app.extensions["utomlans.storage"].close()


# -- the access log's queries on a large log -------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=UTC)
FILTERS = ("client", "period", "decision_id", "after")


def fill(engine, reads: int) -> None:
    """`reads` records a second apart, 4 clients in turn, each naming 5 of 1,000 decisions."""
    rows, items = [], []
    for seq in range(1, reads + 1):
        named = [f"d-{(seq * 7 + k) % 1000}" for k in range(5)]
        rows.append(
            {
                "seq": seq,
                "at": START + timedelta(seconds=seq),
                "client": f"client-{seq % 4}",
                "method": "GET",
                "path": "/v1/decisions",
                "query": "",
                "decision_ids": json.dumps(named),
            }
        )
        items += [{"decision_id": d, "read_seq": seq} for d in named]
    with engine.begin() as conn:
        conn.execute(insert(decision_reads), rows)
        conn.execute(insert(decision_read_items), items)


def explain(conn, arguments: dict) -> list[str]:
    sql = str(
        find_query(**arguments)
        .limit(101)
        .compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    )
    if conn.dialect.name == "postgresql":
        return [line for (line,) in conn.exec_driver_sql("EXPLAIN " + sql)]
    return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


def test_every_filter_combination_reads_by_an_index(db_url):
    """No combination reads a whole table (PostgreSQL: seq scans off, this log is small). With a
    decision_id, that decision's reads come from the key of decision_read_items (SQLite, with the
    statistics of migration 0007: first, then a sort of those few); otherwise SQLite reads the
    client's index or the time index in the page's order and sorts nothing."""
    storage = Storage.open(db_url)
    try:
        fill(storage.engine, 4000)
        middle = START + timedelta(seconds=2000)
        values = {
            "client": {"client": "client-1"},
            "period": {"at_from": middle - timedelta(minutes=20), "at_to": middle + timedelta(minutes=20)},
            "decision_id": {"decision_id": "d-7"},
            "after": {"after": (middle, 2000)},
        }
        with storage.engine.connect() as conn:
            postgresql = conn.dialect.name == "postgresql"
            if postgresql:
                conn.exec_driver_sql("ANALYZE decision_reads")
                conn.exec_driver_sql("ANALYZE decision_read_items")
                conn.exec_driver_sql("SET enable_seqscan = off")
            for size in range(len(FILTERS) + 1):
                for names in combinations(FILTERS, size):
                    arguments = {k: v for name in names for k, v in values[name].items()}
                    lines = explain(conn, arguments)
                    text = "\n".join(lines)
                    assert "Seq Scan" not in text and "SCAN decision_read" not in text.replace(
                        "SCAN decision_reads USING INDEX", ""
                    ), (names, lines)
                    if postgresql:  # plans by its own statistics: the decision's reads by the key
                        assert "decision_id" not in names or "decision_read_items_pkey" in text, (
                            names,
                            lines,
                        )
                        continue
                    if "decision_id" in names:
                        assert lines[0].startswith("SEARCH decision_read_items USING"), (names, lines)
                    else:
                        index = "ix_decision_reads_client" if "client" in names else "ix_decision_reads_at"
                        assert index in lines[0] and "TEMP B-TREE" not in text, (names, lines)
    finally:
        storage.close()


def test_migration_0007_adds_the_tables_and_goes_back(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0005")
        assert "decision_reads" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert {"decision_reads", "decision_read_items"} <= set(inspect(engine).get_table_names())
        Storage(engine).reads.record(
            client="c", method="GET", path="/v1/decisions", query="", decision_ids=["d"]
        )
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        assert not {"decision_reads", "decision_read_items"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# -- through the real server ---------------------------------------------------------------------


@pytest.mark.slow
def test_the_json_access_log_names_the_key_id_never_the_key(tmp_path, app_db_url):
    log_path = tmp_path / "gunicorn.log"
    env = {
        "DATABASE_URL": app_db_url,
        "API_KEYS": api_keys(KEYS),
        "API_KEYS_FILE": None,
        "GUNICORN_ACCESS_LOG": "-",
    }
    with running_gunicorn(log_path, env=env, startup_timeout=30) as (base, _proc):

        def get(path, key=None):
            headers = {"Authorization": f"Bearer {KEYS[key][0]}"} if key else {}
            request = urllib.request.Request(base + path, headers={"User-Agent": "audit-test", **headers})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, None

        assert get("/v1/decisions?limit=5", "billing")[0] == 200
        assert get("/v1/access-log", "billing")[0] == 403
        status, page = get("/v1/access-log", "auditor")
        assert status == 200
        assert [(r["client"], r["path"], r["query"]) for r in page["items"]] == [
            ("billing", "/v1/decisions", "limit=5")
        ]
        assert get("/health")[0] == 200
        # Refused, and logged without the number: a personnummer in a query, one in the path.
        assert get("/v1/decisions?contact_id=19121212-1212", "billing")[0] == 422
        assert get("/v1/decisions/191212121212", "billing")[0] == 404

        def logged():
            lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
            entries = [json.loads(line) for line in lines]
            return [e for e in entries if e["user_agent"] == "audit-test"]

        assert wait_until(lambda: len(logged()) == 6, timeout=10), log_path.read_text()
    entries = logged()  # two workers: in the order each wrote its line
    assert sorted((e["path"], e["status"], e["client"] or "") for e in entries) == [
        ("/health", 200, ""),
        ("/v1/access-log", 200, "auditor"),
        ("/v1/access-log", 403, "billing"),
        ("/v1/decisions", 200, "billing"),
        ("/v1/decisions", 422, "billing"),
        ("/v1/decisions/<masked>", 404, "billing"),
    ]
    assert [e["query"] for e in entries if e["status"] == 422] == ["contact_id=<masked>"]
    assert [e["client"] for e in entries if e["path"] == "/health"] == [None]
    text = log_path.read_text()
    assert "19121212" not in text and "121212-1212" not in text
    for secret, _ in KEYS.values():
        assert secret not in text and hash_key(secret) not in text


def test_what_could_be_an_identity_number_is_masked_in_the_record(client):
    """A path id that found nothing is recorded, and a readjudication's selection too: a number that
    could be a personnummer is kept out of the record, as out of every other store."""
    assert client.get("/v1/decisions/19121212-1212", headers=bearer("billing")).status_code == 404
    assert client.get("/v1/decisions/121212-1212", headers=bearer("billing")).status_code == 404
    # A decision id is kept whole, though its last group may be 12 digits (1 id in about 280).
    uuid_of_digits = "01a22808-b77c-7da0-8685-075369011455"
    assert client.get(f"/v1/decisions/{uuid_of_digits}", headers=bearer("billing")).status_code == 404
    records = access_log(client)
    assert [record["path"] for record in records] == ["/v1/decisions/<masked>"] * 2 + [
        f"/v1/decisions/{uuid_of_digits}"
    ]
    assert "1212" not in json.dumps(records[:2])


def test_an_unknown_query_parameter_is_a_422_not_ignored(client):
    """A misspelt filter (home_regoin=01) used to be dropped, and every decision listed."""
    response = client.get("/v1/decisions?home_regoin=01", headers=bearer("billing"))
    assert response.status_code == 422
    assert response.json["errors"] == {"home_regoin": ["Unknown field."]}
    assert access_log(client) == []
