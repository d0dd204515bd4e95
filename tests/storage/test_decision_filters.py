"""GET /v1/decisions on a large log: every filter combination reads an index in its order, and a
statement past the time limit answers 503 problem+json instead of holding the request."""

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import insert

from api.storage import Storage, make_engine
from api.storage.migrate import _PG_LOCK_KEY, alembic_config, current_revision, upgrade
from api.storage.tables import decisions
from tests.storage.pgserver import libpq_url, wait_until
from tests.storage.query_plans import (
    every_combination,
    index_used,
    merge_sorts,
    plan,
    sorts,
    table_scanned,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
REGIONS = ("01", "13", "24", "25")
REASONS = (("DIGITAL_TARIFF", "pay"), ("DIGITAL_NOT_CONTRACTED", "no_pay"), ("ACUTE_CARE", "pay"))


def fill(engine, count: int, *, before_0008: bool = False) -> None:
    """`count` decisions, 30 s apart from START; contact ids shared by two decisions each (without
    the care_region column when `before_0008`: its contact holds it)."""
    rows = []
    for i in range(count):
        reason, decision = REASONS[i % len(REASONS)]
        at = START + timedelta(seconds=30 * i)
        care_region = REGIONS[(i // 3) % len(REGIONS)]
        rows.append(
            {
                "decision_id": f"d-{i}",
                "idem_key": f"k-{i}",
                "contact_id": f"c-{i % (count // 2)}",
                "home_region": REGIONS[(i // 2) % len(REGIONS)],
                "care_region": care_region,
                "revision": i // (count // 2) + 1,
                "contact_date": (at - timedelta(days=i % 40)).date(),
                "decision": decision,
                "reason": reason,
                "amount_ore": 0,
                "contact": f'{{"care_region": "{care_region}"}}',
                "verdict": "{}",
                "policy_digest": "-",
                "layers": "[]",
                "evaluated_at": at,
                "client": "test",
                "supersedes": None,
                "tx": "fill",
            }
        )
        if before_0008:
            del rows[-1]["care_region"]
    with engine.begin() as conn:
        conn.execute(insert(decisions), rows)


def values(count: int) -> dict:
    middle = START + timedelta(seconds=30 * (count // 2))
    return {
        "contact_id": "c-7",
        "home_region": "13",
        "reason": "DIGITAL_TARIFF",
        "decision": "pay",
        "evaluated": (middle - timedelta(hours=2), middle + timedelta(hours=2)),
        "contact_date": (middle.date() - timedelta(days=10), middle.date()),
        "after": (middle, count // 2),
    }


# The index each combination is to be read by: the first of these filters given, else evaluated_at's.
LEADING = (
    ("contact_id", "ix_decisions_contact_evaluated"),
    ("home_region", "ix_decisions_region_evaluated"),
    ("reason", "ix_decisions_reason_evaluated"),
)
BY_CONTACT = {index.name for index in decisions.indexes if index.expressions[0].name == "contact_id"}


def leading_index(arguments: dict) -> str:
    return next((index for key, index in LEADING if key in arguments), "ix_decisions_evaluated")


@contextmanager
def planning(db_url: str, count: int):
    """A connection to a log of `count` decisions to EXPLAIN on, and whether it is PostgreSQL
    (analysed, seq scans off: the table is small, and a scan is what the tests look for)."""
    storage = Storage.open(db_url)
    try:
        fill(storage.engine, count)
        with storage.engine.connect() as conn:
            postgresql = conn.dialect.name == "postgresql"
            if postgresql:
                conn.exec_driver_sql("ANALYZE decisions")
                conn.exec_driver_sql("SET enable_seqscan = off")
            yield conn, postgresql
    finally:
        storage.close()


def test_every_filter_combination_reads_an_index_in_order(db_url):
    """SQLite (with the fixed statistics of migration 0005) reads each combination by its leading
    filter's index and sorts nothing. PostgreSQL plans by its own statistics: it never reads the
    whole table (seq scans off: this table is small), and with contact_id it reads by an index on
    contact_id, that contact's few decisions (sorting those at most)."""
    count = 3000
    with planning(db_url, count) as (conn, postgresql):
        checked = 0
        for name, arguments in every_combination(values(count)):
            lines = plan(conn, arguments)
            assert not table_scanned(lines), (name, lines)
            if "contact_id" in arguments:  # by an index on contact_id first: one contact's rows
                assert set(index_used(lines).split(",")) <= BY_CONTACT, (name, lines)
                assert all(rows is not None and rows <= 10 for rows in sorts(lines)), (name, lines)
            if not postgresql:
                assert index_used(lines) == leading_index(arguments), (name, lines)
                assert sorts(lines) == [], (name, lines)
            checked += 1
    assert checked == 128


BY_REGION = {"ix_decisions_region_evaluated", "ix_decisions_care_region_evaluated"}


@pytest.mark.parametrize("regions", [{"13"}, {"13", "25"}])
def test_a_key_scoped_to_regions_reads_each_combination_by_an_index_too(db_url, regions):
    """The same combinations for a key scoped to `regions`: with contact_id, still by contact_id's
    index (its few rows checked for the regions); with home_region (one of them), as before;
    otherwise by home_region's and care_region's indexes, one read per region and column, each
    stopping at a page (SQLite sorts each read's rows for the merge, at most a page: it cannot
    tell they come in order). PostgreSQL, by its own statistics, as above."""
    count, limit = 3000, 101
    with planning(db_url, count) as (conn, postgresql):
        for name, arguments in every_combination(values(count)):
            lines = plan(conn, {**arguments, "regions": frozenset(regions)}, limit)
            assert not table_scanned(lines), (name, lines)
            if "contact_id" in arguments:
                assert set(index_used(lines).split(",")) <= BY_CONTACT, (name, lines)
                assert all(rows is not None and rows <= 10 for rows in sorts(lines)), (name, lines)
            if postgresql:
                continue  # by its own statistics, as above
            if "contact_id" in arguments or "home_region" in arguments:
                assert index_used(lines) == leading_index(arguments), (name, lines)
                assert sorts(lines) == [], (name, lines)
            else:
                assert set(index_used(lines).split(",")) == BY_REGION, (name, lines)
                reads = [line for line in lines if line.startswith("SEARCH decisions USING INDEX")]
                assert len(reads) == len(sorts(lines)) == merge_sorts(lines) == 2 * len(regions), lines
                assert all(line.endswith("_region=?)") or "region=? AND" in line for line in reads), lines


def test_a_statement_past_the_time_limit_answers_503_problem_json(app_db_url, make_app):
    """SQLite: a 1 ms limit and a search that must read all 100,000 decisions (no contact_date matches):
    far more than 1 ms of work, so the progress handler stops it. PostgreSQL: a search that waits
    for a lock a migration would hold, which it cannot get before the limit."""
    postgresql = app_db_url.startswith("postgresql")
    seeding = Storage.open(app_db_url)
    fill(seeding.engine, 200 if postgresql else 100_000)
    seeding.close()
    app = make_app(STATEMENT_TIMEOUT_MS=200 if postgresql else 1)
    client = app.test_client()
    search = "/v1/decisions?contact_date_from=2001-01-01&contact_date_to=2001-01-02"
    locker = None
    if postgresql:
        locker = psycopg.connect(libpq_url(app_db_url))
        locker.execute("LOCK TABLE decisions IN ACCESS EXCLUSIVE MODE")
    try:
        response = client.get(search)
    finally:
        if locker is not None:
            locker.rollback()
            locker.close()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 503
    assert "limit of" in body["detail"]
    assert response.headers["Retry-After"]
    # The worker's connections are fine afterwards: a search by contact_id is answered.
    answered = client.get("/v1/decisions?contact_id=c-7")
    assert answered.status_code == 200
    assert [item["contact_id"] for item in answered.get_json()["items"]] == ["c-7", "c-7"]


def test_migrations_run_without_the_time_limit(db_url):
    """An engine with a time limit migrates past it. SQLite: a 1 ms limit, and 0005 builds indexes
    over 30,000 decisions (far more than 1 ms of work). PostgreSQL: a 100 ms limit, and the
    migration first waits for another process's migration lock for longer than that."""
    postgresql = db_url.startswith("postgresql")
    unlimited = make_engine(db_url)
    upgrade(unlimited, "0004")
    if not postgresql:
        fill(unlimited, 30_000, before_0008=True)
    unlimited.dispose()
    engine = make_engine(db_url, statement_timeout_ms=100 if postgresql else 1)
    try:
        if not postgresql:
            upgrade(engine)
        else:
            holder = psycopg.connect(libpq_url(db_url), autocommit=True)
            holder.execute("SELECT pg_advisory_lock(%s)", (_PG_LOCK_KEY,))
            migrating = threading.Thread(target=upgrade, args=(engine,))
            migrating.start()
            waited = wait_until(
                lambda: (
                    holder.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE '%pg_advisory_xact_lock%' AND now() - query_start > interval '500 ms'"
                    ).fetchone()[0]
                    == 1
                ),
                timeout=30,
            )
            holder.execute("SELECT pg_advisory_unlock(%s)", (_PG_LOCK_KEY,))
            migrating.join(60)
            holder.close()
            assert waited, "the migration did not wait for the other process's lock past the limit"
        assert current_revision(engine) == ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        engine.dispose()
