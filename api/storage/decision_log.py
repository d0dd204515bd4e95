"""The decision log: every verdict the service issues, stored before the response is sent.

Idempotent by content: an identical contact sent again gets the stored decision back (same
decision_id and evaluated_at); the same contact_id with other content gets a new decision naming
the one it supersedes. The unique index on (contact_id, home_region, idem_key) makes concurrent
identical submissions yield one row.
"""

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..decision_entry import Pending, with_supersedes
from .engine import driver_errors
from .group_commit import GroupCommit
from .tables import decisions
from .unreachable import OUTAGES

_ATTEMPTS = 4  # a record() call that lost a race to a concurrent identical insert is redone
MAX_PAGE = 1000


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


class DecisionLog:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._group_writer = None
        if getattr(engine, "sqlite_writer_lock", None) is not None:  # an SQLite file
            from .sqlite_group_writer import SqliteGroupWriter

            self._group_writer = SqliteGroupWriter(engine)
        self.grouping = GroupCommit(self._record_groups, alone_after=_not_an_outage)

    def close(self) -> None:
        if self._group_writer is not None:
            self._group_writer.close()

    # -- writing ---------------------------------------------------------------------------

    def record(self, entries: Sequence[Pending]) -> list[dict]:
        """Store the entries, committed on return; the verdict to send for each, in order: the
        entry's own, or the stored original for a repeat of an earlier identical contact."""
        return [orjson.loads(answer) for answer in self.record_now(entries)]

    def record_now(self, entries: Sequence[Pending]) -> list[bytes | str]:
        """As record(), but the JSON texts as stored. Calls from concurrent threads share one
        transaction (group_commit.py): one request's entries are stored all or none, each with
        what the calls before it in the transaction stored in view."""
        return self.grouping.submit(entries)

    def _record_groups(self, take: Callable[[], list[Sequence[Pending]]]) -> list[list[bytes | str]]:
        """GroupCommit's run: the transaction is begun before take() says what goes into it."""
        if self._group_writer is not None:
            return self._group_writer.record_groups(take)
        transaction = self.begin()
        try:
            answers = [transaction.record(entries) for entries in take()]
        except BaseException:
            transaction.rollback()
            raise
        transaction.commit()
        return answers

    def begin(self) -> "Transaction":
        """A write transaction for several record() calls (a batch issued in chunks): everything
        recorded in it is stored at commit() or not at all."""
        return Transaction(self.engine)

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
        if cursor:
            at, seq = decode_cursor(cursor)
            at = _utc(at)
            query = query.where(or_(c.evaluated_at > at, and_(c.evaluated_at == at, c.seq > seq)))
        query = query.order_by(c.evaluated_at, c.seq).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(_aware(rows[-1].evaluated_at), rows[-1].seq) if more else None
        return Page([_record(row) for row in rows], next_cursor)

    def count(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(decisions)).scalar_one()


class Transaction:
    """One decision-log write transaction (on SQLite it holds the write lock: BEGIN IMMEDIATE)."""

    def __init__(self, engine: Engine):
        self._conn = engine.connect().execution_options(sqlite_immediate=True)
        try:
            self._outer = self._conn.begin()
        except BaseException:
            self._conn.close()
            raise
        self._dialect = self._conn.dialect
        self._sqlite = self._dialect.name == "sqlite"
        self._driver = self._conn.connection.driver_connection if self._sqlite else None

    @classmethod
    def on_sqlite_driver(cls, driver, dialect) -> "Transaction":
        """record() inside a transaction the caller began and ends on this sqlite3 connection
        (sqlite_group_writer.py); commit() and rollback() are not for it."""
        transaction = cls.__new__(cls)
        transaction._conn = transaction._outer = None
        transaction._dialect = dialect
        transaction._sqlite = True
        transaction._driver = driver
        return transaction

    def record(self, entries: Sequence[Pending]) -> list[bytes | str]:
        """Store the entries (inside this transaction); the verdicts to send, as DecisionLog.record
        but as the JSON text that is stored (sent as it is: a verdict is serialised once).

        On PostgreSQL each call runs in a savepoint: when a concurrent transaction committed an
        identical contact first (IntegrityError on ux_decisions_contact_idem), the call is rolled back to the
        savepoint and redone, and the lookup then finds that row. SQLite serialises writers
        (BEGIN IMMEDIATE under the writer lock), so no such race exists there and no savepoint is
        needed: two statements fewer for every single verdict."""
        if self._sqlite:
            return self._record_once(entries)
        for attempt in range(_ATTEMPTS):
            try:
                with self._conn.begin_nested():
                    return self._record_once(entries)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def commit(self) -> None:
        try:
            self._outer.commit()
        finally:
            self._conn.close()

    def rollback(self) -> None:
        try:
            if self._outer.is_active:
                self._outer.rollback()
        finally:
            self._conn.close()

    def _record_once(self, entries: Sequence[Pending]) -> list[bytes | str]:
        stored = self._stored_verdicts({(e.contact_id, e.home_region, e.idem_key) for e in entries})
        fresh: dict[str, Pending] = {}
        for entry in entries:
            if entry.idem_key not in stored and entry.idem_key not in fresh:
                fresh[entry.idem_key] = entry
        if fresh:
            latest = self._latest({e.contact_id for e in fresh.values()})
            rows = []
            row_of = _RowMaker(self._sqlite)
            for entry in fresh.values():
                key = (entry.contact_id, entry.home_region)
                previous = latest.get(key)
                text = entry.verdict if previous is None else with_supersedes(entry.verdict, previous)
                latest[key] = entry.decision_id
                stored[entry.idem_key] = text
                rows.append(row_of(entry, previous, text))
            self._insert(rows)
        return [stored[entry.idem_key] for entry in entries]

    def _in(self, column: str, values: set[str]) -> tuple[str, object]:
        """`column` IN the values as one bound parameter (not one per value): a JSON array through
        json_each on SQLite, an array with = ANY on PostgreSQL; a plain `=` for one value."""
        if self._sqlite:
            if len(values) == 1:
                return f"{column} = ?", tuple(values)
            return f"{column} IN (SELECT value FROM json_each(?))", (orjson.dumps(sorted(values)).decode(),)
        return f"{column} = ANY(%(values)s)", {"values": sorted(values)}

    def _query(self, sql: str, params) -> list[tuple]:
        """Straight to the driver's cursor (no SQLAlchemy result processing: this runs for every
        request that issues a verdict)."""
        if not self._sqlite:
            return self._conn.exec_driver_sql(sql, params).all()
        with driver_errors(sql, self._dialect):
            return self._driver.execute(sql, params).fetchall()

    def _insert(self, rows: list[tuple]) -> None:
        """The hot path of the batch endpoint: straight to the driver, no per-row SQLAlchemy
        processing. PostgreSQL: binary COPY (a unique violation fails the whole COPY as
        IntegrityError, and record() redoes the call). SQLite: executemany of one prepared INSERT."""
        if not self._sqlite:
            cursor = self._conn.connection.driver_connection.cursor()
            with driver_errors("COPY decisions", self._dialect):
                with cursor.copy(_POSTGRESQL_COPY) as copy:
                    copy.set_types(_POSTGRESQL_TYPES)
                    for row in rows:
                        copy.write_row(row)
            return
        with driver_errors("INSERT INTO decisions", self._dialect):
            self._driver.executemany(_SQLITE_INSERT, rows)

    def _stored_verdicts(self, keys: set[tuple[str, str, str]]) -> dict[str, bytes | str]:
        """The stored verdict text, by idem_key, of each (contact_id, home_region, idem_key) already
        in the log (a repeat is answered with it), found through ux_decisions_contact_idem."""
        select_verdicts = "SELECT idem_key, verdict FROM decisions WHERE "
        if not self._sqlite:
            contact_ids, regions, idem_keys = (list(column) for column in zip(*sorted(keys), strict=True))
            where = (
                "(contact_id, home_region, idem_key) IN "
                "(SELECT * FROM unnest(%(c)s::varchar[], %(r)s::varchar[], %(k)s::varchar[]))"
            )
            params = {"c": contact_ids, "r": regions, "k": idem_keys}
        elif len(keys) == 1:
            where, (params,) = "contact_id = ? AND home_region = ? AND idem_key = ?", keys
        else:
            where = (
                "(contact_id, home_region, idem_key) IN (SELECT json_extract(value, '$[0]'), "
                "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?))"
            )
            params = (orjson.dumps(sorted(keys)).decode(),)
        return dict(self._query(select_verdicts + where, params))

    def _latest(self, contact_ids: set[str]) -> dict[tuple[str, str], str]:
        """The newest stored decision_id per (contact_id, home_region) of these contact ids: one
        row per contact, found through ux_decisions_contact_idem (whose SQLite entries hold the seq),
        however long its history."""
        where, params = self._in("contact_id", contact_ids)
        result = self._query(
            "SELECT d.contact_id, d.home_region, d.decision_id FROM decisions AS d "
            f"WHERE d.{where} AND d.seq = (SELECT max(e.seq) FROM decisions AS e "
            "WHERE e.contact_id = d.contact_id AND e.home_region = d.home_region)",
            params,
        )
        return {(contact_id, region): decision_id for contact_id, region, decision_id in result}


_COLUMNS = (
    "decision_id",
    "idem_key",
    "contact_id",
    "home_region",
    "contact_date",
    "decision",
    "reason",
    "amount_ore",
    "contact",
    "verdict",
    "policy_digest",
    "layers",
    "evaluated_at",
    "client",
    "supersedes",
)


class _RowMaker:
    """Pending -> the row tuple in _COLUMNS order, in the driver's own types: on SQLite dates and
    times as the text SQLAlchemy itself stores (so reads through SQLAlchemy parse them back); the
    contact and verdict JSON as their UTF-8 bytes on both (see _SQLITE_INSERT and _POSTGRESQL_TYPES).
    The evaluated_at shared by the entries of a batch is converted once."""

    def __init__(self, sqlite: bool):
        self.sqlite = sqlite
        self._moments: dict[datetime, object] = {}

    def __call__(self, entry: Pending, supersedes: str | None, verdict_text: bytes) -> tuple:
        moment = self._moments.get(entry.evaluated_at)
        if moment is None:
            moment = _utc(entry.evaluated_at)
            if self.sqlite:
                moment = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
            self._moments[entry.evaluated_at] = moment
        return (
            entry.decision_id,
            entry.idem_key,
            entry.contact_id,
            entry.home_region,
            entry.contact_date.isoformat() if self.sqlite else entry.contact_date,
            entry.decision,
            entry.reason,
            entry.amount_ore,
            entry.contact_text,
            verdict_text,
            entry.policy_digest,
            entry.layers,
            moment,
            entry.client,
            supersedes,
        )


# The contact and the verdict are bound as their UTF-8 bytes: SQLite casts them to TEXT (the same
# bytes, stored as text), PostgreSQL's COPY reads them with text's input (_POSTGRESQL_TYPES).
# Decoding ~2.5 KB per row to str in Python, only for the driver to encode it back, cost ~2 µs per
# row (~20 ms of a 10,000-line batch).
_TEXT_FROM_BYTES = ("contact", "verdict")
_SQLITE_INSERT = "INSERT INTO decisions ({}) VALUES ({})".format(
    ", ".join(_COLUMNS), ", ".join("CAST(? AS TEXT)" if c in _TEXT_FROM_BYTES else "?" for c in _COLUMNS)
)


# Binary COPY: the server reads each value as it is, instead of scanning ~2.5 KB of JSON text per
# row for COPY escapes (a 10,000-row COPY took ~25 % less time). The types are the columns' own,
# in _COLUMNS order (varchar lengths are still checked).
_POSTGRESQL_COPY = f"COPY decisions ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_POSTGRESQL_TYPES = [
    "varchar",  # decision_id
    "varchar",  # idem_key
    "varchar",  # contact_id
    "varchar",  # home_region
    "date",  # contact_date
    "varchar",  # decision
    "varchar",  # reason
    "int8",  # amount_ore
    # The contact and verdict columns are text; their values are sent as the UTF-8 bytes they are
    # (bytea's binary form is the bytes as they are, and the server reads them with text's own
    # input function, which checks the encoding), with no decode to str and encode back.
    "bytea",  # contact
    "bytea",  # verdict
    "varchar",  # policy_digest
    "text",  # layers
    "timestamptz",  # evaluated_at
    "varchar",  # client
    "varchar",  # supersedes
]


def _not_an_outage(error: BaseException) -> bool:
    """A shared transaction failed for a reason that may be one request's own (not the database
    being down or unreachable): each request is then stored on its own, so only that one fails."""
    return isinstance(error, DBAPIError) and not isinstance(error, OUTAGES)


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
        "evaluated_at": _aware(row.evaluated_at).isoformat().replace("+00:00", "Z"),
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
