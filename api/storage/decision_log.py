"""The decision log: every verdict the service issues, stored before the response is sent.

Each client (API key; "anonymous" when no keys are configured) has its own chain of decisions per
contact, (client, contact_id, home_region): a client never receives, supersedes or learns of
another client's decision, and two clients sending the same contact each get their own. A
submission identical to the newest decision of its chain (SPEC section 6) gets that decision back
(same decision_id and evaluated_at), so a retry is safe; anything else, a return to earlier content
included, is a new decision that supersedes the newest. Each chain's decisions are numbered 1, 2,
3... (`revision`, unique per chain), so of two transactions storing the same chain's next decision
at once only one can: the other is answered with it when identical, and otherwise supersedes it in
turn. One chain per client and contact, never a fork.

    log.record(entries)                           # one request's decisions, one transaction
    with log.transaction() as tx:                 # a batch: chunk by chunk, all of it or none
        for chunk, answers in tx.record_chunks(decided_chunks): ...

Every transaction that stored decisions ends by inserting its row in decision_commits, a ticket
taken without waiting for other writers; the decision feed (api/storage/decision_feed.py) numbers
the commits when it reads (on SQLite, the one writer numbers its own).

Limits on PostgreSQL, where transactions run side by side (SQLite has one writer at a time):
- two batches holding the same contacts in different orders may deadlock, which fails one of them
  (a 503: sending it again is safe);
- a batch stores a chunk by COPY in a savepoint of its own, a subtransaction with a transaction id
  of its own, for its first 64 chunks (32,000 lines in chunks of 500), and the rest by INSERT (not
  overlapped with deciding): past 64 subtransactions the snapshots of other sessions (on standbys
  too) would be marked overflowed, and until the batch ended they would look the writer of every
  row written since it began, by any transaction, up in pg_subtrans;
- the COPY stays open while the next chunk is decided, so that time counts towards its
  statement_timeout (time_limit.py): a limit set far below the default would have to allow for it.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

import orjson
import psycopg
from sqlalchemy import (
    JSON,
    Select,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ..decision_entry import Pending, with_supersedes
from ..issuing import made_now, new_decision_ids
from . import page_cursor
from .engine import writing
from .feed_positions import number_commits
from .stored_time import aware, iso, utc
from .tables import (
    CHAIN_INDEX,
    CHAIN_REVISION,
    OUT_OF_REGION,
    decision_commits,
    decisions,
    shadow_disagreements,
)

MAX_PAGE = 1000
# Savepoints (subtransactions) one transaction takes, at most: PostgreSQL keeps 64 of a
# transaction in shared memory (PGPROC_MAX_CACHED_SUBXIDS); see the limits above.
MAX_SAVEPOINTS = 64


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
            transaction = Transaction(conn)
            yield transaction
            transaction.number_the_commit()

    # -- reading ---------------------------------------------------------------------------

    def get(self, decision_id: str, regions: frozenset[str] | None = None) -> dict | None:
        """The decision, or None; None too when `regions` are given and it is not one of theirs."""
        query = select(decisions).where(decisions.c.decision_id == decision_id)
        if regions is not None:
            query = query.where(in_regions(regions))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            return records_for(conn, [row], regions)[0] if row is not None else None

    def find(
        self,
        *,
        regions: frozenset[str] | None = None,
        cursor: str | None = None,
        limit: int = 100,
        **filters,
    ) -> Page:
        """Decisions matching every given filter (`filters`: find_query's contact_id, home_region,
        reason, decision, evaluated_from/to, contact_date_from/to), oldest first by evaluated_at;
        `evaluated_to` and `contact_date_to` are inclusive. `regions` (a scoped key's): only
        decisions whose home_region or care_region is one of them; None: every region. Raises
        ValueError for a malformed cursor."""
        limit = max(1, min(limit, MAX_PAGE))
        after = decode_cursor(cursor) if cursor else None
        query = find_query(**filters, after=after, regions=regions, limit=limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            more = len(rows) > limit
            rows = rows[:limit]
            items = records_for(conn, rows, regions)
        next_cursor = encode_cursor(aware(rows[-1].evaluated_at), rows[-1].seq) if more else None
        return Page(items, next_cursor)

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
    regions: frozenset[str] | None = None,
    limit: int,
) -> Select:
    """The first `limit` decisions matching every given filter, after the (evaluated_at, seq)
    `after`, in that order. One index yields each combination's rows in this order (tables.py):
    contact_id's if given, else that of home_region or reason (the first given), else
    evaluated_at's; the other filters are checked on the rows it yields, so a page ends as soon as
    it is full. SQLite picks that index by the statistics migrations 0005, 0006 and 0008 fixed;
    PostgreSQL by its own (it may sort a set it expects to be small instead). `after` is a row
    value, (evaluated_at, seq) > (..), which both read as a range of the index (an OR of the two
    they would check row by row).

    `regions` (a scoped key's, None for every region) keeps the decisions whose home_region or
    care_region is one of them. With contact_id (or a home_region among them) that is checked on
    the few rows read. Else an OR of two columns would be read in no index's order (the databases
    would collect every match, then sort): each region is read by home_region's index, and by
    care_region's for the decisions whose home region is none of them, each read stopping at
    `limit`, and the reads merged (PostgreSQL: a Merge Append; SQLite sorts each read's rows, at
    most `limit`, as it does not know they come in order)."""
    c = decisions.c
    conditions = []
    for column, value in (
        (c.contact_id, contact_id),
        (c.home_region, home_region),
        (c.reason, reason),
        (c.decision, decision),
    ):
        if value is not None:
            conditions.append(column == value)
    conditions += period_conditions(c, evaluated_from, evaluated_to, contact_date_from, contact_date_to)
    if after is not None:
        conditions.append(tuple_(c.evaluated_at, c.seq) > (utc(after[0]), after[1]))
    if regions is None or (home_region is not None and home_region in regions):
        return _in_order(select(decisions).where(*conditions), limit)
    if contact_id is not None or home_region is not None:
        return _in_order(select(decisions).where(*conditions, in_regions(regions)), limit)
    codes = sorted(regions)
    reads = [c.home_region == code for code in codes]
    # home_region <> care_region: implied, and the condition of care_region's (partial) index.
    reads += [and_(c.care_region == code, text(OUT_OF_REGION), c.home_region.not_in(codes)) for code in codes]
    merged = union_all(
        *(select(_in_order(select(decisions).where(*conditions, read), limit).subquery()) for read in reads)
    ).subquery("scoped")
    return _in_order(select(merged), limit, merged.c)


def period_conditions(
    c,
    evaluated_from: datetime | None = None,
    evaluated_to: datetime | None = None,
    contact_date_from: date | None = None,
    contact_date_to: date | None = None,
) -> list:
    """The conditions of the period filters (each inclusive; None: no bound) on the decision
    columns `c` (decisions.c, or an alias's)."""
    conditions = []
    if evaluated_from is not None:
        conditions.append(c.evaluated_at >= utc(evaluated_from))
    if evaluated_to is not None:
        conditions.append(c.evaluated_at <= utc(evaluated_to))
    if contact_date_from is not None:
        conditions.append(c.contact_date >= contact_date_from)
    if contact_date_to is not None:
        conditions.append(c.contact_date <= contact_date_to)
    return conditions


def in_regions(regions: frozenset[str]):
    """A decision a key scoped to `regions` may read: its home or care region is one of them."""
    codes = sorted(regions)
    return or_(decisions.c.home_region.in_(codes), decisions.c.care_region.in_(codes))


def _in_order(query: Select, limit: int, columns=decisions.c) -> Select:
    return query.order_by(columns.evaluated_at, columns.seq).limit(limit)


class Chunk(Protocol):
    """What record_chunks stores of a chunk (a batch's: api/batch_chunks.py)."""

    @property
    def entries(self) -> Sequence[Pending]: ...


class Transaction:
    """One decision-log write transaction, open on `conn`; `tx` names it in the rows it stores."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._postgresql = conn.dialect.name == "postgresql"
        self.tx = new_decision_ids(1)[0]  # time-ordered, so ix_decisions_tx grows at its end
        self._stored = False
        self._savepoints = 0  # taken by _sent_ahead, at most MAX_SAVEPOINTS

    def record(self, entries: Sequence[Pending]) -> list[bytes]:
        """Store the entries inside this transaction; the verdict JSON to send for each, as
        DecisionLog.record."""
        plan = self._plan(entries)
        self._send(plan.first)
        return self._finish(plan)

    def record_chunks(self, chunks: Iterator[Chunk]) -> Iterator[tuple[Chunk, list[bytes]]]:
        """Store each chunk's entries as record() does; yield the chunk with its answers.

        On PostgreSQL the next chunk is drawn from `chunks` (decided, for a batch) while the
        database stores the one before, instead of after: the worker and the database then work
        side by side on the machine's cores. Nothing else is sent while those rows are out, and
        their outcome is settled before the next chunk is looked up, so each chunk is stored and
        settled as record() would."""
        chunk = next(chunks, None)
        while chunk is not None:
            plan = self._plan(chunk.entries)
            with self._sent_ahead(plan.first):
                following = next(chunks, None)
            yield chunk, self._finish(plan)
            chunk = following

    def _plan(self, entries: Sequence[Pending]) -> "_Plan":
        """Split the entries into rounds in which each chain occurs once (nearly always a single
        round), so each entry is compared with the newest decision of its chain after the entry
        before it in the same chain is in the log; and look up the first round's chains."""
        rounds, remaining = [], list(range(len(entries)))
        while remaining:
            seen, this_round, later = set(), [], []
            for i in remaining:
                key = chain(entries[i])
                (later if key in seen else this_round).append(i)
                seen.add(key)
            rounds.append(this_round)
            remaining = later
        first = self._round([(i, entries[i]) for i in rounds[0]] if rounds else [])
        return _Plan(entries, first, rounds[1:])

    def _round(self, todo: list[tuple[int, Pending]], newest: dict | None = None) -> "_Round":
        """Entries of different chains, each compared with the newest decision of its chain
        (`newest`, looked up when not given): an identical one is answered with that decision; any
        other is to be stored as the chain's next revision, superseding the newest."""
        if not todo:
            return _Round([], [])
        if newest is None:
            newest = self._newest([entry for _, entry in todo])
        answered, rows = [], []
        for i, entry in todo:
            found = newest.get(chain(entry))
            if found is not None and found.verdict is not None:  # identical to the newest
                answered.append((i, found.verdict.encode()))
            elif found is None:
                rows.append((i, entry, entry.verdict, _row(entry, None, entry.verdict, 1, self.tx)))
            else:
                verdict = with_supersedes(entry.verdict, found.decision_id)
                row = _row(entry, found.decision_id, verdict, found.revision + 1, self.tx)
                rows.append((i, entry, verdict, row))
        return _Round(answered, rows)

    def _send(self, step: "_Round") -> None:
        step.inserted = self._insert([row for *_, row in step.rows])

    @contextmanager
    def _sent_ahead(self, step: "_Round") -> Iterator[None]:
        """Send the round's rows, run the block, and have them stored when it ends. On PostgreSQL
        by COPY, left open while the block runs: the database stores the rows as they arrive, and
        COPY costs both sides less per row than an INSERT each. COPY cannot skip a row that lost a
        race (another transaction stored its chain's revision first): that row fails it, so it runs
        in a savepoint, and then the round is rolled back and sent as record() sends it. Past a
        transaction's first MAX_SAVEPOINTS, rounds are sent as record() sends them."""
        if not (self._postgresql and step.rows) or self._savepoints == MAX_SAVEPOINTS:
            self._send(step)
            yield
            return
        self._savepoints += 1
        driver = self._conn.connection.driver_connection
        cursor = driver.cursor()  # its rowcount, read when the round is settled: the rows copied
        with _driver_errors(self._conn, _POSTGRESQL_COPY):
            driver.execute(_SAVEPOINT)
            try:
                with cursor.copy(_POSTGRESQL_COPY) as copy:
                    for *_, row in step.rows:
                        copy.write_row([row[column] for column in _INSERTED_COLUMNS])
                    yield
            except psycopg.errors.UniqueViolation as error:
                if error.diag.constraint_name != CHAIN_INDEX:
                    raise
                driver.execute(_ROLLBACK_TO_SAVEPOINT)
                driver.execute(_RELEASE_SAVEPOINT)
                cursor.close()
                self._send(step)
                return
            driver.execute(_RELEASE_SAVEPOINT)
        step.inserted = cursor

    def _finish(self, plan: "_Plan") -> list[bytes]:
        """The answers in the entries' order, once the first round (sent) is settled and the later
        rounds are stored and settled; then the shadow's disagreements with the decisions stored now
        (not with a resubmission answered with its stored decision) are stored too."""
        entries = plan.entries
        answers: list[bytes] = [b""] * len(entries)
        for i, answer in self._settled(plan.first):
            answers[i] = answer
        for later in plan.later:
            step = self._round([(i, entries[i]) for i in later])
            self._send(step)
            for i, answer in self._settled(step):
                answers[i] = answer
        disagreements = [
            _disagreement_row(entry)
            for entry, answer in zip(entries, answers, strict=True)
            if entry.disagreement is not None and made_now(entry, answer)
        ]
        if disagreements:
            self._conn.execute(insert(shadow_disagreements), disagreements)
        return answers

    def _settled(self, step: "_Round") -> Iterator[tuple[int, bytes]]:
        """Yield (index, the verdict to send) for a round whose INSERT was sent. When a concurrent
        transaction of the same client stored a chain's revision first (PostgreSQL; SQLite has one
        writer at a time), the INSERT waited for it to commit and skipped the row, and the lookup
        that follows sees what it stored: identical, it is answered; else the entry supersedes it,
        one revision further on."""
        while True:
            yield from step.answered
            inserted = step.inserted_count()
            self._stored = self._stored or inserted > 0
            if inserted == len(step.rows):
                yield from ((i, verdict) for i, _, verdict, _ in step.rows)
                return
            # Some lost a race: the newest decision of each chain now says which.
            newest = self._newest([entry for _, entry, _, _ in step.rows])
            todo = []
            for i, entry, verdict, row in step.rows:
                if newest[chain(entry)].decision_id == row["decision_id"]:
                    yield i, verdict
                else:
                    todo.append((i, entry))
            step = self._round(todo, newest)
            self._send(step)

    def number_the_commit(self) -> None:
        """The last step before COMMIT, when this transaction stored decisions: its row in
        decision_commits, whose `position` is its ticket. On PostgreSQL no lock: writers commit side
        by side, and the feed gives the commit its feed_position when it finds it visible
        (decision_feed.py). SQLite's one writer, which holds the write lock anyway, numbers as it
        commits, so a feed read never waits for that lock while a batch is open."""
        if not self._stored:
            return
        self._conn.execute(_TICKET, {"tx": self.tx})
        if not self._postgresql:
            number_commits(self._conn)

    def _newest(self, entries: list[Pending]) -> dict[tuple[str, str, str], "Newest"]:
        """The newest decision of each entry's chain, in one query; its verdict only when it is
        identical to the entry."""
        keys = [(e.contact_id, e.home_region, e.client, e.idem_key) for e in entries]
        query = _POSTGRESQL_NEWEST if self._postgresql else _SQLITE_NEWEST
        rows = self._conn.execute(query, {"keys": keys})
        return {(row.client, row.contact_id, row.home_region): Newest(*row[3:]) for row in rows}

    def _insert(self, rows: list[dict]):
        """INSERT ... ON CONFLICT DO NOTHING on the unique (contact_id, home_region, client,
        revision), as the driver's own executemany (through SQLAlchemy's execute, processing each
        row's values took longer than the database's work). Returns the result, whose `rowcount`
        tells how many rows were inserted (None for no rows)."""
        if not rows:
            return None
        if self._postgresql:
            return self._conn.exec_driver_sql(_POSTGRESQL_INSERT, rows)
        return self._conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_values(row) for row in rows])


@dataclass
class _Round:
    answered: list[tuple[int, bytes]]  # (index, the stored decision): identical resubmissions
    rows: list[tuple[int, Pending, bytes, dict]]  # (index, entry, verdict text, row) to insert
    inserted: Any = None  # once sent: a result or cursor whose rowcount is the rows stored

    def inserted_count(self) -> int:
        """How many of the rows the INSERT stored (the others lost a race); read once it is done."""
        if self.inserted is None:
            return 0
        count = self.inserted.rowcount
        self.inserted.close()
        return count


@dataclass(frozen=True)
class _Plan:
    entries: Sequence[Pending]
    first: _Round
    later: list[list[int]]  # the indices of each later round's entries


@contextmanager
def _driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """The driver's errors from `statement` (sent past SQLAlchemy), raised as SQLAlchemy raises
    them: an outage is then a 503 like any other (api/storage/unreachable.py)."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as error:
        raise DBAPIError.instance(statement, None, error, dbapi_error, dialect=conn.dialect) from error


# A transaction's row in decision_commits (its ticket), built once.
_TICKET = insert(decision_commits).values(tx=bindparam("tx"))


def chain(entry: Pending) -> tuple[str, str, str]:
    """The chain an entry belongs to: its client's decisions for its contact."""
    return entry.client, entry.contact_id, entry.home_region


class Newest(NamedTuple):
    decision_id: str
    revision: int
    verdict: str | None  # only when identical to the submission looked up


# The decision log's lookup, built once per database: the newest decision of each chain (client,
# contact_id, home_region) looked up, with its verdict when it has the submission's content
# (idem_key). The keys are one parameter, a JSON array of [contact_id, home_region, client,
# idem_key] the query reads as a table (json_each, json_array_elements): a parameter per value
# (500 for a batch's chunk) would have the statement written, parsed and planned anew for every
# chunk. Each key probes the unique index on (contact_id, home_region, client, revision) for its
# last entry (on PostgreSQL through a LATERAL subquery, so that a young table's statistics cannot
# turn the lookup into a scan of the whole log; =ANY(array) was planned so).
_NEWEST_COLUMNS = ("client", "contact_id", "home_region", "decision_id", "revision")


def _sqlite_newest() -> Select:
    keys = func.json_each(bindparam("keys", type_=JSON)).table_valued("value").alias("k")
    contact_id, home_region, client, idem_key = (func.json_extract(keys.c.value, f"$[{n}]") for n in range(4))
    n = decisions.alias("n").c
    newest_seq = (
        select(n.seq)
        .where(n.contact_id == contact_id, n.home_region == home_region, n.client == client)
        .order_by(n.revision.desc())
        .limit(1)
        .scalar_subquery()
    )
    c = decisions.c
    return select(
        *(c[name] for name in _NEWEST_COLUMNS),
        case((c.idem_key == idem_key, c.verdict)).label("verdict"),
    ).select_from(keys.join(decisions, c.seq == newest_seq))


def _postgresql_newest() -> Select:
    keys = func.json_array_elements(bindparam("keys", type_=postgresql.JSON)).table_valued("value").alias("k")
    contact_id, home_region, client, idem_key = (
        keys.c.value.op("->>")(literal_column(str(n))) for n in range(4)
    )
    c = decisions.c
    # A subquery with a LIMIT is never flattened into a join (which the planner may make a scan of
    # the whole log), so no OFFSET 0 is needed to keep it apart.
    d = (
        select(*(c[name] for name in _NEWEST_COLUMNS), c.idem_key, c.verdict)
        .where(c.contact_id == contact_id, c.home_region == home_region, c.client == client)
        .order_by(c.revision.desc())
        .limit(1)
        .lateral("d")
    )
    return select(
        *(d.c[name] for name in _NEWEST_COLUMNS),
        case((d.c.idem_key == idem_key, d.c.verdict)).label("verdict"),
    ).select_from(keys.join(d, true()))


_SQLITE_NEWEST = _sqlite_newest()
_POSTGRESQL_NEWEST = _postgresql_newest()


_INSERTED_COLUMNS = tuple(c.name for c in decisions.c if c.name != "seq")  # seq: the database's


def _insert_sql(insert, dialect) -> str:
    statement = insert(decisions).inline().on_conflict_do_nothing(index_elements=list(CHAIN_REVISION))
    return str(statement.compile(dialect=dialect, column_keys=list(_INSERTED_COLUMNS)))


_SQLITE_INSERT = _insert_sql(sqlite.insert, sqlite.dialect(paramstyle="named"))
_POSTGRESQL_INSERT = _insert_sql(postgresql.insert, postgresql.psycopg.dialect())

# A batch's rows on PostgreSQL (Transaction._sent_ahead): COPY, each chunk in a savepoint.
_POSTGRESQL_COPY = f"COPY decisions ({', '.join(_INSERTED_COLUMNS)}) FROM STDIN"
_SAVEPOINT, _RELEASE_SAVEPOINT, _ROLLBACK_TO_SAVEPOINT = (
    f"{command} decision_chunk" for command in ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
)


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


def _row(entry: Pending, supersedes: str | None, verdict_text: bytes, revision: int, tx: str) -> dict:
    return {
        "decision_id": entry.decision_id,
        "idem_key": entry.idem_key,
        "contact_id": entry.contact_id,
        "home_region": entry.home_region,
        "care_region": entry.care_region,
        "revision": revision,
        "contact_date": entry.contact_date,
        "decision": entry.decision,
        "reason": entry.reason,
        "amount_ore": entry.amount_ore,
        "contact": entry.contact_text.decode(),
        "verdict": verdict_text.decode(),
        "policy_digest": entry.policy_digest,
        "layers": entry.layers,
        "evaluated_at": utc(entry.evaluated_at),
        "client": entry.client,
        "supersedes": supersedes,
        "policy_version": entry.policy_version,
        "contract_book": entry.contract_book,
        "shadow_version": entry.shadow_version,
        "tx": tx,
    }


def _disagreement_row(entry: Pending) -> dict:
    shadow = entry.disagreement
    return {
        "decision_id": entry.decision_id,
        "shadow_version": entry.shadow_version,
        "decision": shadow.decision,
        "reason": shadow.reason,
        "amount_ore": shadow.amount_ore,
        "verdict": shadow.verdict.decode(),
    }


def records_for(conn: Connection, rows: Sequence, regions: frozenset[str] | None) -> list[dict]:
    """The decisions as a key scoped to `regions` (None: every region) may read them: a decision
    that supersedes one the key may not read (the same line sent before with another care region)
    does not name it, in `supersedes` or in its verdict, so that its existence is not revealed."""
    records = [record_of(row) for row in rows]
    named = {record["supersedes"] for record in records if record["supersedes"]}
    if regions is None or not named:
        return records
    c = decisions.c
    query = select(c.decision_id).where(c.decision_id.in_(sorted(named)), in_regions(regions))
    readable = set(conn.execute(query).scalars())
    for record in records:
        if record["supersedes"] and record["supersedes"] not in readable:
            record["supersedes"] = None
            record["verdict"].pop("supersedes", None)
    return records


def record_of(row) -> dict:
    return {
        "decision_id": row.decision_id,
        "contact_id": row.contact_id,
        "home_region": row.home_region,
        "contact_date": row.contact_date.isoformat(),
        "decision": row.decision,
        "reason": row.reason,
        "evaluated_at": iso(row.evaluated_at),
        "client": row.client,
        "supersedes": row.supersedes,
        "policy": {
            "digest": row.policy_digest,
            "layers": orjson.loads(row.layers),
            "version": row.policy_version,
            "contract_book": row.contract_book,
        },
        "contact": orjson.loads(row.contact),
        "verdict": orjson.loads(row.verdict),
    }


def encode_cursor(at: datetime, seq: int) -> str:
    return page_cursor.encode(at, seq)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    return page_cursor.decode(cursor)
