"""The Alembic migrations build exactly the schema the code uses, on SQLite and PostgreSQL."""

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from api.decision_entry import with_supersedes
from api.storage import Storage, make_engine
from api.storage.decision_feed import encode_token
from api.storage.decision_log import _row
from api.storage.migrate import alembic_config, current_revision, upgrade
from api.storage.tables import decisions, metadata

from .gunicorn_server import running_gunicorn
from .helpers import contact, pending, record

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_match_the_tables_and_run_twice(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        upgrade(engine)  # a second worker finds the work done
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            if conn.dialect.name == "postgresql":  # 0002: stored JSON compressed with lz4
                compression = dict(
                    conn.exec_driver_sql(
                        "SELECT attname, attcompression FROM pg_attribute "
                        "WHERE attrelid = 'decisions'::regclass AND attname IN ('contact', 'verdict')"
                    ).all()
                )
                assert compression == {"contact": "l", "verdict": "l"}
        assert diff == []
    finally:
        engine.dispose()


SINCE_0009 = ("policy_version", "contract_book", "shadow_version")  # the decisions' columns added by 0009


def _stored_as_before_0004(engine, entries) -> None:
    """Insert the entries as the service stored them before 0004 (no revision, no tx, no care_region)."""
    rows = [_row(entry, None, entry.verdict, 0, "") for entry in entries]
    for row in rows:
        del row["revision"], row["tx"], row["care_region"]
        for column in SINCE_0009:
            del row[column]
    with engine.begin() as conn:
        conn.execute(insert(decisions), rows)


def test_0003_keeps_every_stored_decision_and_one_row_per_identical_contact(db_url):
    """From the schema before 0003 (a unique idem_key) with decisions in it, to the one unique
    index per contact: every row is kept, and a repeat is refused."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002")
        storage = Storage(engine)
        entries = [pending(contact(f"m-{i}")) for i in range(5)]
        _stored_as_before_0004(engine, entries)
        upgrade(engine, "0003")
        assert current_revision(engine) == "0003"
        assert storage.decisions.count() == 5
        with engine.begin() as conn, pytest.raises(IntegrityError):  # the index itself refuses a copy
            conn.exec_driver_sql(
                "INSERT INTO decisions (decision_id, idem_key, contact_id, home_region, contact_date, "
                "decision, reason, amount_ore, contact, verdict, policy_digest, layers, evaluated_at, "
                "client) SELECT 'x', idem_key, contact_id, home_region, contact_date, decision, reason, "
                "amount_ore, contact, verdict, policy_digest, layers, evaluated_at, client "
                f"FROM decisions WHERE decision_id = '{entries[0].decision_id}'"
            )
        config = alembic_config()
        with engine.begin() as connection:  # and back, should a release be rolled back
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert current_revision(engine) == "0002"
        assert storage.decisions.count() == 5
        storage.close()
    finally:
        engine.dispose()


def test_0004_numbers_each_contacts_decisions_and_lists_them_in_the_feed(db_url):
    """From 0003 with decisions in it (a contact with two): revisions 1, 2 in the order stored, so
    the next submission supersedes the newest; the feed lists every earlier decision, then the new
    one; the unique index refuses a second decision with one revision."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")
        storage = Storage(engine)
        a, b, other = (
            pending(contact("m-1")),
            pending(contact("m-1", claimed_amount_sek="9.00")),
            pending(contact("m-2")),
        )
        _stored_as_before_0004(engine, [a, b, other])
        _up_and_down(engine, "0004", "0003")  # down and up again: nothing is lost
        upgrade(engine)
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            revisions = dict(conn.exec_driver_sql("SELECT decision_id, revision FROM decisions").all())
        assert revisions == {a.decision_id: 1, b.decision_id: 2, other.decision_id: 1}
        [retry] = record(storage, [pending(contact("m-1", claimed_amount_sek="9.00"))])
        assert retry["decision_id"] == b.decision_id
        back = pending(contact("m-1"))
        assert record(storage, [back])[0]["supersedes"] == b.decision_id
        page = storage.feed.page(None, 10)
        assert [d["decision_id"] for d in page.items] == [
            a.decision_id,
            b.decision_id,
            other.decision_id,
            back.decision_id,
        ]
        with engine.begin() as conn, pytest.raises(IntegrityError):
            conn.exec_driver_sql(
                "INSERT INTO decisions (decision_id, idem_key, contact_id, home_region, revision, "
                "contact_date, decision, reason, amount_ore, contact, verdict, policy_digest, layers, "
                "evaluated_at, client, tx) SELECT 'x', 'y', contact_id, home_region, revision, "
                "contact_date, decision, reason, amount_ore, contact, verdict, policy_digest, layers, "
                f"evaluated_at, client, tx FROM decisions WHERE decision_id = '{a.decision_id}'"
            )
        storage.close()
    finally:
        engine.dispose()


def test_0006_gives_each_client_its_own_chain_and_no_other_clients_decision(db_url):
    """From 0005 with one chain across clients for a contact (client 1's A, client 2's identical A
    superseding it, client 1's B superseding that) and a contact of client 2 alone: revisions per
    client, and a `supersedes` that named another client's decision now names the decision before
    in the client's own chain, or nothing, in the verdict a retry gets too."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0005")
        storage = Storage(engine)
        one_a = pending(contact("m-1"), client="billing-1")
        two_a = pending(contact("m-1"), client="billing-2")
        one_b = pending(contact("m-1", claimed_amount_sek="9.00"), client="billing-1")
        two_other = pending(contact("m-2"), client="billing-2")
        rows = [
            _row(one_a, None, one_a.verdict, 1, "t"),
            _row(two_a, one_a.decision_id, with_supersedes(two_a.verdict, one_a.decision_id), 2, "t"),
            _row(one_b, two_a.decision_id, with_supersedes(one_b.verdict, two_a.decision_id), 3, "t"),
            _row(two_other, None, two_other.verdict, 1, "t"),
        ]
        for row in rows:
            del row["care_region"]  # a column since 0008
            for column in SINCE_0009:
                del row[column]
        with engine.begin() as conn:
            conn.execute(insert(decisions), rows)
        config = alembic_config()
        with engine.begin() as connection:  # up, down and up again: nothing is lost
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
            command.downgrade(config, "0005")
            assert _chains(connection)[two_a.decision_id] == (2, None)  # numbered per contact again
        upgrade(engine)
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            assert _chains(conn) == {
                one_a.decision_id: (1, None),
                two_a.decision_id: (1, None),
                one_b.decision_id: (2, one_a.decision_id),
                two_other.decision_id: (1, None),
            }
        # The verdicts read and sent again say the same; the rest of each verdict is as it was.
        [two_retry] = record(storage, [pending(contact("m-1"), client="billing-2")])
        assert two_retry == orjson.loads(two_a.verdict) and "supersedes" not in two_retry
        one_retry = pending(contact("m-1", claimed_amount_sek="9.00"), client="billing-1")
        [sent] = storage.decisions.record([one_retry])
        assert sent == with_supersedes(one_b.verdict, one_a.decision_id)  # byte for byte
        assert storage.decisions.get(one_b.decision_id)["verdict"] == orjson.loads(sent)
        # Each client's next submission supersedes its own newest.
        [one_back] = record(storage, [pending(contact("m-1"), client="billing-1")])
        assert one_back["supersedes"] == one_b.decision_id
        [two_changed] = record(
            storage, [pending(contact("m-2", claimed_amount_sek="1.00"), client="billing-2")]
        )
        assert two_changed["supersedes"] == two_other.decision_id
        if db_url.startswith("sqlite"):  # the fixed statistics name the index of the chains
            with engine.connect() as conn:
                indexes = {idx for (idx,) in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1")}
            assert "ux_decisions_chain" in indexes and "ux_decisions_contact_revision" not in indexes
        storage.close()
    finally:
        engine.dispose()


def test_0008_gives_every_stored_decision_the_care_region_of_its_contact(db_url):
    """From 0007 with decisions in it: each gets its contact's care_region, so a key scoped to the
    care region reads it (by id, in lists); down and up again keeps them; SQLite's fixed
    statistics name every index (the table is rebuilt, which drops them) and no other."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0003")
        storage = Storage(engine)
        entries = [pending(contact("m-1", care_region="13")), pending(contact("m-2", home_region="01"))]
        _stored_as_before_0004(engine, entries)
        upgrade(engine, "0007")
        _up_and_down(engine, "0008", "0007")
        upgrade(engine)
        with engine.connect() as conn:
            stored = dict(conn.exec_driver_sql("SELECT contact_id, care_region FROM decisions").all())
            if conn.dialect.name == "sqlite":
                statistics = {
                    idx
                    for (idx,) in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'decisions'")
                }
                assert statistics == {index.name for index in decisions.indexes}
        assert stored == {"m-1": "13", "m-2": "06"}
        assert storage.decisions.get(entries[0].decision_id, frozenset({"13"})) is not None
        assert storage.decisions.get(entries[1].decision_id, frozenset({"13"})) is None
        scoped = storage.decisions.find(regions=frozenset({"06"})).items
        assert [d["contact_id"] for d in scoped] == ["m-2"]
        storage.close()
    finally:
        engine.dispose()


def _chains(conn) -> dict[str, tuple[int, str | None]]:
    rows = conn.exec_driver_sql("SELECT decision_id, revision, supersedes FROM decisions").all()
    return {decision_id: (revision, supersedes) for decision_id, revision, supersedes in rows}


@pytest.mark.slow
def test_gunicorn_migrates_in_the_master_before_any_worker_starts(db_url, tmp_path):
    """A long migration (0003 copies the SQLite table) must not run inside a worker's boot, which
    gunicorn kills after its timeout: the shipped config migrates first, then starts workers."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0002")
        log_path = tmp_path / "gunicorn.log"
        with running_gunicorn(log_path, workers=1, env={"DATABASE_URL": db_url}):
            pass
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()
    lines = log_path.read_text().splitlines()
    migrated = next(i for i, line in enumerate(lines) if line.endswith(f": revision {HEAD}"))
    booted = next(i for i, line in enumerate(lines) if "Booting worker" in line)
    assert migrated < booted


def test_0009_down_and_up_again_keeps_every_decision(db_url):
    """Down from 0009 with decisions that name their version (the columns and tables go) and up
    again: the decisions stay, the on-disk version is registered and in force again, and SQLite's
    fixed statistics name every index once."""
    engine = make_engine(db_url)
    try:
        storage = Storage(engine)
        storage.prepare()
        entries = [pending(contact("p-1")), pending(contact("p-2", home_region="01"))]
        storage.decisions.record(entries)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM decisions").scalar_one() == 2
        storage = Storage(engine)
        storage.prepare()
        assert current_revision(engine) == HEAD
        assert {d["contact_id"] for d in storage.decisions.find().items} == {"p-1", "p-2"}
        assert storage.versions.state().active == storage.on_disk.version
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                statistics = [
                    idx
                    for (idx,) in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'decisions'")
                ]
                assert sorted(statistics) == sorted(index.name for index in decisions.indexes)
    finally:
        engine.dispose()


def test_0010_keeps_every_position_so_a_token_from_before_reads_on(db_url):
    """Three commits stored as before 0010 and a reader's token after the second: after 0010 (down
    and up again too) the token reads on with the third commit, then what commits since. A downgrade
    gives each commit its feed position as position, so the earlier code reads in the feed's order:
    a commit numbered while one with an earlier ticket was still open stays before it."""
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0009")
        storage = Storage(engine)
        commits = [[pending(contact(f"t-{i}-{j}")) for j in range(2)] for i in range(3)]
        for i, entries in enumerate(commits):
            _stored_as_before_0010(engine, entries, f"tx-{i}")
        with engine.connect() as conn:
            position, seq = conn.exec_driver_sql(
                "SELECT position, max(seq) FROM decision_commits JOIN decisions USING (tx) "
                "WHERE tx = 'tx-1' GROUP BY position"
            ).one()
        token = encode_token(position, seq)
        _up_and_down(engine, "0010", "0009")
        upgrade(engine)
        assert current_revision(engine) == HEAD
        later = pending(contact("t-later"))
        storage.decisions.record([later])
        page = storage.feed.page(token)
        expected = [entry.decision_id for entry in [*commits[2], later]]
        assert [d["decision_id"] for d in page.items] == expected

        # A commit numbered (feed_position 5) while the one with the earlier ticket was still open.
        open_then, numbered_first = pending(contact("t-open")), pending(contact("t-first"))
        _stored_as_before_0010(engine, [open_then], "tx-open")
        _stored_as_before_0010(engine, [numbered_first], "tx-first")
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE decision_commits SET feed_position = 5 WHERE tx = 'tx-first'")
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
            order = connection.exec_driver_sql("SELECT tx FROM decision_commits ORDER BY position").scalars()
            assert list(order) == ["tx-0", "tx-1", "tx-2", _tx_of(connection, later), "tx-first", "tx-open"]
        upgrade(engine)
        assert [d["decision_id"] for d in storage.feed.page(page.next).items] == [
            numbered_first.decision_id,
            open_then.decision_id,
        ]
        storage.decisions.record([pending(contact("t-last"))])  # the next ticket is free
        storage.close()
    finally:
        engine.dispose()


def _stored_as_before_0010(engine, entries, tx) -> None:
    """Insert the entries as one commit as a writer did before 0010 (a position, no feed_position)."""
    with engine.begin() as conn:
        conn.execute(insert(decisions), [_row(entry, None, entry.verdict, 1, tx) for entry in entries])
        conn.exec_driver_sql(f"INSERT INTO decision_commits (tx) VALUES ('{tx}')")


def _tx_of(conn, entry) -> str:
    query = f"SELECT tx FROM decisions WHERE decision_id = '{entry.decision_id}'"
    return conn.exec_driver_sql(query).scalar_one()


def _up_and_down(engine, up: str, down: str) -> None:
    """Upgrade to `up` and downgrade to `down` in one transaction, as a rolled-back release would."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, up)
        command.downgrade(config, down)
