"""The decision log: every verdict the service issues, stored before the response is sent.

Idempotent by content: an identical contact sent again gets the stored decision back (same
decision_id and evaluated_at); the same contact_id with other content gets a new decision naming
the one it supersedes. The unique index on (contact_id, home_region, idem_key) makes concurrent
identical submissions yield one row.

    log.record(entries)                           # one request's decisions, one transaction
    with log.transaction() as tx:                 # a batch: chunk by chunk, all of it or none
        for chunk, answers in tx.record_chunks(decided_chunks): ...

Limits on PostgreSQL, where transactions run side by side (SQLite has one writer at a time):
two different contents for one contact stored at the same moment may both name the same earlier
decision (or none) as the one they supersede; and two batches holding the same contacts in
different orders may deadlock, which fails one of them (a 503: sending it again is safe).
"""

import base64
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

import orjson
from sqlalchemy import ARRAY, JSON, Select, any_, bindparam, case, func, select, true, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..decision_entry import Pending, with_supersedes
from .engine import writing
from .tables import decisions

MAX_PAGE = 1000
C = TypeVar("C")  # a chunk of a batch: anything with `entries`


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


class DecisionLog:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- writing ---------------------------------------------------------------------------

    def record(self, entries: Sequence[Pending]) -> list[bytes]:
        """Store the entries in one transaction, committed on return. Returns the verdict JSON to
        send for each, in order: the entry's own, or the stored original for a repeat."""
        with self.transaction() as transaction:
            return transaction.record(entries)

    @contextmanager
    def transaction(self) -> Iterator["Transaction"]:
        """A write transaction for several record() calls (a batch stored chunk by chunk): committed
        when the block ends, rolled back if it raises."""
        with writing(self.engine) as conn:
            yield Transaction(conn)

    # -- reading ---------------------------------------------------------------------------

    def get(self, decision_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(decisions).where(decisions.c.decision_id == decision_id)).first()
        return _record(row) if row is not None else None

    def find(
        self,
        *,
        contact_id: str | None = None,
        home_region: str | None = None,
        reason: str | None = None,
        decision: str | None = None,
        evaluated_from: datetime | None = None,
        evaluated_to: datetime | None = None,
        contact_date_from: date | None = None,
        contact_date_to: date | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        """Decisions matching every given filter, oldest first by evaluated_at; `evaluated_to` and
        `contact_date_to` are inclusive. Raises ValueError for a malformed cursor."""
        limit = max(1, min(limit, MAX_PAGE))
        query = find_query(
            contact_id=contact_id,
            home_region=home_region,
            reason=reason,
            decision=decision,
            evaluated_from=evaluated_from,
            evaluated_to=evaluated_to,
            contact_date_from=contact_date_from,
            contact_date_to=contact_date_to,
            after=decode_cursor(cursor) if cursor else None,
        ).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(_aware(rows[-1].evaluated_at), rows[-1].seq) if more else None
        return Page([_record(row) for row in rows], next_cursor)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(decisions)).scalar_one()


def find_query(
    *,
    contact_id: str | None = None,
    home_region: str | None = None,
    reason: str | None = None,
    decision: str | None = None,
    evaluated_from: datetime | None = None,
    evaluated_to: datetime | None = None,
    contact_date_from: date | None = None,
    contact_date_to: date | None = None,
    after: tuple[datetime, int] | None = None,
) -> Select:
    """The decisions matching every given filter, after the (evaluated_at, seq) `after`, in that
    order. One index yields each combination's rows in this order (tables.py): contact_id's if
    given, else that of home_region or reason (the first given), else evaluated_at's; the other
    filters are checked on the rows it yields, so a page ends as soon as it is full. SQLite
    picks that index by the statistics migration 0004 fixed; PostgreSQL by its own (it may sort a
    set it expects to be small instead). `after` is a row value, (evaluated_at, seq) > (..), which
    both read as a range of the index (an OR of the two they would check row by row)."""
    c = decisions.c
    query = select(decisions)
    for column, value in (
        (c.contact_id, contact_id),
        (c.home_region, home_region),
        (c.reason, reason),
        (c.decision, decision),
    ):
        if value is not None:
            query = query.where(column == value)
    if evaluated_from is not None:
        query = query.where(c.evaluated_at >= _utc(evaluated_from))
    if evaluated_to is not None:
        query = query.where(c.evaluated_at <= _utc(evaluated_to))
    if contact_date_from is not None:
        query = query.where(c.contact_date >= contact_date_from)
    if contact_date_to is not None:
        query = query.where(c.contact_date <= contact_date_to)
    if after is not None:
        query = query.where(tuple_(c.evaluated_at, c.seq) > (_utc(after[0]), after[1]))
    return query.order_by(c.evaluated_at, c.seq)


class Transaction:
    """One decision-log write transaction, open on `conn`."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._postgresql = conn.dialect.name == "postgresql"

    def record(self, entries: Sequence[Pending]) -> list[bytes]:
        """Store the entries inside this transaction; the verdict JSON to send for each, as
        DecisionLog.record.

        Entries are stored in rounds in which each (contact_id, home_region) occurs once (nearly
        always a single round), so what one entry supersedes is looked up after the entry before it
        for the same contact is in the log. An identical submission committed by a concurrent
        transaction after the lookup (PostgreSQL; SQLite has one writer at a time) is skipped by
        the INSERT on the unique index, having waited for that transaction, and the decision it
        stored is answered instead."""
        answers: dict[str, bytes] = {}
        remaining = list(entries)
        while remaining:
            seen, this_round, later = set(), [], []
            for entry in remaining:
                key = (entry.contact_id, entry.home_region)
                (later if key in seen else this_round).append(entry)
                seen.add(key)
            answers.update(self._record_round(this_round))
            remaining = later
        return [answers[entry.idem_key] for entry in entries]

    def _record_round(self, entries: list[Pending]) -> dict[str, bytes]:
        """Store entries whose (contact_id, home_region) differ; the verdict to send, by idem_key."""
        keys = {
            "contact_ids": sorted({e.contact_id for e in entries}),
            "idem_keys": [e.idem_key for e in entries],
        }
        stored, latest = self._known(keys)
        rows = []
        for entry in entries:
            if entry.idem_key not in stored:
                previous = latest.get((entry.contact_id, entry.home_region))
                text = entry.verdict if previous is None else with_supersedes(entry.verdict, previous)
                stored[entry.idem_key] = text
                rows.append(_row(entry, previous, text))
        if rows and self._insert(rows) < len(rows):
            # Some were stored first by a concurrent transaction: answer with what it stored.
            ours = {row["idem_key"]: row["decision_id"] for row in rows}
            for row in self._conn.execute(self._known_query, keys):
                if row.idem_key in ours and row.decision_id != ours[row.idem_key]:
                    stored[row.idem_key] = row.verdict.encode()
        return stored

    def record_chunks(self, chunks: Iterable[C]) -> Iterator[tuple[C, list[bytes]]]:
        """Store each chunk's `entries` in turn, as record(); yield (chunk, the verdicts to send).

        PostgreSQL does its part of the work in a process of its own: there, a thread stores each
        chunk while the caller's iterable decides the next. (SQLite works inside this process and
        hands the GIL back and forth for every row, so a thread only slows it down.)"""
        if not self._postgresql:
            for chunk in chunks:
                yield chunk, self.record(chunk.entries)
            return
        storer = ThreadPoolExecutor(1)
        try:
            previous = None
            for chunk in chunks:
                storing = (chunk, storer.submit(self.record, chunk.entries))
                if previous is not None:
                    yield previous[0], previous[1].result()
                previous = storing
            if previous is not None:
                yield previous[0], previous[1].result()
        finally:
            # Before the transaction ends (commit or rollback): nothing is left storing, and a
            # chunk queued behind one that failed is not stored at all.
            storer.shutdown(wait=True, cancel_futures=True)

    def _known(self, keys: dict) -> tuple[dict, dict]:
        """What the log holds for these contact ids, in one query: the stored verdict of each of
        these submissions (by idem_key), and the newest decision_id per (contact_id, home_region)."""
        stored: dict[str, bytes] = {}
        newest: dict[tuple[str, str], tuple[int, str]] = {}
        for contact_id, home_region, idem_key, seq, decision_id, verdict in self._conn.execute(
            self._known_query, keys
        ):
            if verdict is not None:
                stored[idem_key] = verdict.encode()
            key = (contact_id, home_region)
            if key not in newest or seq > newest[key][0]:
                newest[key] = (seq, decision_id)
        return stored, {key: decision_id for key, (_, decision_id) in newest.items()}

    def _insert(self, rows: list[dict]) -> int:
        """INSERT ... ON CONFLICT DO NOTHING on the unique (contact_id, home_region, idem_key), as
        the driver's own executemany (through SQLAlchemy's execute, processing each row's values
        took longer than the database's work); how many rows were inserted."""
        if self._postgresql:
            return self._conn.exec_driver_sql(_POSTGRESQL_INSERT, rows).rowcount
        return self._conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_values(row) for row in rows]).rowcount

    @property
    def _known_query(self) -> Select:
        return _POSTGRESQL_KNOWN if self._postgresql else _SQLITE_KNOWN


# The decision log's lookup, built once per database: every decision of the contact ids (the
# parameter contact_ids), with its verdict only when its idem_key is one of the submissions'
# (idem_keys). Each list is one parameter, a table the query reads (SQLite: a JSON array through
# json_each; PostgreSQL: an array through unnest): a parameter per value (500 for a batch's chunk)
# would have the statement written, parsed and planned anew for every chunk. Each contact id
# probes the unique index (on PostgreSQL through a LATERAL subquery, so that a young table's
# statistics cannot turn the lookup into a scan of the whole log; =ANY(array) was planned so).
_COLUMNS = ("contact_id", "home_region", "idem_key", "seq", "decision_id")


def _sqlite_known() -> Select:
    ids = func.json_each(bindparam("contact_ids", type_=JSON)).table_valued("value").alias("ids")
    keys = select(func.json_each(bindparam("idem_keys", type_=JSON)).table_valued("value"))
    c = decisions.c
    return select(
        *(c[name] for name in _COLUMNS), case((c.idem_key.in_(keys), c.verdict)).label("verdict")
    ).select_from(ids.join(decisions, c.contact_id == ids.c.value))


def _postgresql_known() -> Select:
    text_array = ARRAY(decisions.c.contact_id.type)
    ids = func.unnest(bindparam("contact_ids", type_=text_array)).table_valued("value").render_derived("ids")
    c = decisions.c
    # An OFFSET (of 0) keeps the planner from flattening the LATERAL subquery into a join, which
    # it may plan as a scan of the whole log.
    d = (
        select(*(c[name] for name in _COLUMNS), c.verdict)
        .where(c.contact_id == ids.c.value)
        .offset(0)
        .lateral("d")
    )
    keys = any_(bindparam("idem_keys", type_=text_array))
    return select(
        *(d.c[name] for name in _COLUMNS), case((d.c.idem_key == keys, d.c.verdict)).label("verdict")
    ).select_from(ids.join(d, true()))


_SQLITE_KNOWN = _sqlite_known()
_POSTGRESQL_KNOWN = _postgresql_known()


def _insert_sql(insert, dialect) -> str:
    statement = (
        insert(decisions)
        .inline()
        .on_conflict_do_nothing(index_elements=["contact_id", "home_region", "idem_key"])
    )
    return str(
        statement.compile(dialect=dialect, column_keys=[c.name for c in decisions.c if c.name != "seq"])
    )


_SQLITE_INSERT = _insert_sql(sqlite.insert, sqlite.dialect(paramstyle="named"))
_POSTGRESQL_INSERT = _insert_sql(postgresql.insert, postgresql.psycopg.dialect())


def _sqlite_values(row: dict) -> dict:
    """The row's date and time as SQLAlchemy's SQLite types store them (so it reads them back): the
    driver's executemany bypasses them."""
    return dict(
        row,
        contact_date=_SQLITE_DATE(row["contact_date"]),
        evaluated_at=_SQLITE_DATETIME(row["evaluated_at"]),
    )


def _sqlite_bind(column: str):
    dialect = sqlite.dialect()
    return decisions.c[column].type.dialect_impl(dialect).bind_processor(dialect)


_SQLITE_DATE, _SQLITE_DATETIME = _sqlite_bind("contact_date"), _sqlite_bind("evaluated_at")


def _row(entry: Pending, supersedes: str | None, verdict_text: bytes) -> dict:
    return {
        "decision_id": entry.decision_id,
        "idem_key": entry.idem_key,
        "contact_id": entry.contact_id,
        "home_region": entry.home_region,
        "contact_date": entry.contact_date,
        "decision": entry.decision,
        "reason": entry.reason,
        "amount_ore": entry.amount_ore,
        "contact": entry.contact_text.decode(),
        "verdict": verdict_text.decode(),
        "policy_digest": entry.policy_digest,
        "layers": entry.layers,
        "evaluated_at": _utc(entry.evaluated_at),
        "client": entry.client,
        "supersedes": supersedes,
    }


def _utc(moment: datetime) -> datetime:
    """Stored and compared in UTC (SQLite keeps no zone, so every value must be in the same one)."""
    if moment.tzinfo is None:
        raise ValueError("a datetime without a time zone")
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; everything stored is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _record(row) -> dict:
    return {
        "decision_id": row.decision_id,
        "contact_id": row.contact_id,
        "home_region": row.home_region,
        "contact_date": row.contact_date.isoformat(),
        "decision": row.decision,
        "reason": row.reason,
        "evaluated_at": _aware(row.evaluated_at).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "client": row.client,
        "supersedes": row.supersedes,
        "policy": {"digest": row.policy_digest, "layers": orjson.loads(row.layers)},
        "contact": orjson.loads(row.contact),
        "verdict": orjson.loads(row.verdict),
    }


def encode_cursor(at: datetime, seq: int) -> str:
    raw = f"{at.astimezone(UTC).isoformat()}|{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, seq = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError
        return moment, int(seq)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("Not a cursor returned by this service.") from None
