"""The decision log: every verdict the service issues, stored before the response is sent.

Idempotent by content: an identical contact sent again gets the stored decision back (same
decision_id and evaluated_at); the same contact_id with other content gets a new decision naming
the one it supersedes. The unique idem_key makes concurrent identical submissions yield one row.
"""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from rules.vocabulary import age_group

from .engine import writing
from .tables import decisions

_CHUNK = 500  # ids per IN (...) query: far below SQLite's and PostgreSQL's parameter limits
_ATTEMPTS = 4  # a batch that lost a race to a concurrent identical insert is simply redone
MAX_PAGE = 1000


def stored_contact(contact: dict) -> dict:
    """The contact as received, with patient.age reduced to its age group (SPEC section 8)."""
    patient = contact.get("patient")
    if (
        isinstance(patient, dict)
        and isinstance(patient.get("age"), int)
        and not isinstance(patient.get("age"), bool)
    ):
        patient = dict(patient)
        patient["age"] = age_group(patient["age"])
        contact = dict(contact)
        contact["patient"] = patient
    return contact


def canonical(data) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def idempotency_key(contact_id: str, home_region: str, contact_text: bytes) -> str:
    """sha256 over (contact_id, home_region, canonical JSON of the stored contact).

    The stored form (age group, not age) is hashed so the key cannot be used to recover the exact
    age; two submissions differing only in the age within one group count as identical, which is
    harmless because age never affects a decision."""
    digest = hashlib.sha256()
    digest.update(contact_id.encode())
    digest.update(b"\x00")
    digest.update(home_region.encode())
    digest.update(b"\x00")
    digest.update(contact_text)
    return digest.hexdigest()


@dataclass(slots=True)
class Pending:
    """One verdict about to be issued, with what the log keeps about it."""

    decision_id: str
    contact_id: str
    home_region: str
    contact_date: date
    decision: str
    reason: str
    amount_ore: int
    contact_text: bytes  # canonical JSON of stored_contact(...)
    verdict: dict  # the response body; `supersedes` is added here when it applies
    policy_digest: str
    layers: list
    evaluated_at: datetime
    client: str
    idem_key: str = field(default="")

    def __post_init__(self):
        if not self.idem_key:
            self.idem_key = idempotency_key(self.contact_id, self.home_region, self.contact_text)


def pending_from_verdict(verdict, contact: dict, body: dict, evaluated_at: datetime, client: str) -> Pending:
    """A Pending entry for a rules.Verdict, the contact as received and the response body."""
    c = verdict.contact
    policy = body["policy"]
    return Pending(
        decision_id=body["decision_id"],
        contact_id=c.contact_id,
        home_region=c.home_region,
        contact_date=c.contact_date,
        decision=verdict.decision,
        reason=verdict.reason,
        amount_ore=verdict.amount_ore,
        contact_text=canonical(stored_contact(contact)),
        verdict=body,
        policy_digest=policy["digest"],
        layers=policy["layers"],
        evaluated_at=evaluated_at,
        client=client,
    )


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


class DecisionLog:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- writing ---------------------------------------------------------------------------

    def record(self, entries: Sequence[Pending]) -> list[dict]:
        """Store the entries in one transaction; return the verdict to send for each, in order:
        the entry's own, or the stored original for a repeat of an earlier identical contact."""
        for attempt in range(_ATTEMPTS):
            try:
                return self._record_once(entries)
            except IntegrityError:
                # A concurrent request committed an identical contact first: redo, and this time
                # the lookup finds its row.
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _record_once(self, entries: Sequence[Pending]) -> list[dict]:
        with writing(self.engine) as conn:
            stored = self._stored_verdicts(conn, {e.idem_key for e in entries})
            fresh: dict[str, Pending] = {}
            for entry in entries:
                if entry.idem_key not in stored and entry.idem_key not in fresh:
                    fresh[entry.idem_key] = entry
            if fresh:
                latest = self._latest(conn, fresh.values())
                rows = []
                for entry in fresh.values():
                    entry.verdict.pop("supersedes", None)  # from an attempt that lost a race
                    key = (entry.contact_id, entry.home_region)
                    previous = latest.get(key)
                    if previous is not None:
                        entry.verdict["supersedes"] = previous
                    latest[key] = entry.decision_id
                    rows.append(_row(entry, previous))
                _insert(conn, rows)
        out = []
        for entry in entries:
            original = stored.get(entry.idem_key)
            if original is not None:
                out.append(original)
            else:
                out.append(fresh[entry.idem_key].verdict)
        return out

    @staticmethod
    def _stored_verdicts(conn, keys: set[str]) -> dict[str, dict]:
        found = {}
        ordered = sorted(keys)
        for i in range(0, len(ordered), _CHUNK):
            chunk = ordered[i : i + _CHUNK]
            query = select(decisions.c.idem_key, decisions.c.verdict).where(decisions.c.idem_key.in_(chunk))
            for key, verdict in conn.execute(query):
                found[key] = orjson.loads(verdict)
        return found

    @staticmethod
    def _latest(conn, entries) -> dict[tuple[str, str], str]:
        """The newest stored decision_id per (contact_id, home_region) of the entries."""
        ids = sorted({e.contact_id for e in entries})
        latest: dict[tuple[str, str], tuple[int, str]] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            query = select(
                decisions.c.contact_id, decisions.c.home_region, decisions.c.seq, decisions.c.decision_id
            ).where(decisions.c.contact_id.in_(chunk))
            for contact_id, region, seq, decision_id in conn.execute(query):
                key = (contact_id, region)
                if key not in latest or latest[key][0] < seq:
                    latest[key] = (seq, decision_id)
        return {key: value[1] for key, value in latest.items()}

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


def _row(entry: Pending, supersedes: str | None) -> tuple:
    return (
        entry.decision_id,
        entry.idem_key,
        entry.contact_id,
        entry.home_region,
        entry.contact_date,
        entry.decision,
        entry.reason,
        entry.amount_ore,
        entry.contact_text.decode(),
        orjson.dumps(entry.verdict).decode(),
        entry.policy_digest,
        orjson.dumps(entry.layers).decode(),
        _utc(entry.evaluated_at),
        entry.client,
        supersedes,
    )


def _insert(conn, rows: list[tuple]) -> None:
    """The hot path of the batch endpoint: straight to the driver, no per-row SQLAlchemy processing.

    PostgreSQL: COPY (a unique violation fails the whole COPY as IntegrityError, and record() redoes
    the batch). SQLite: executemany of one prepared INSERT, dates as the text SQLAlchemy itself
    stores (so reads through SQLAlchemy parse them back)."""
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        try:
            with cursor.copy(f"COPY decisions ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except Exception as exc:
            import psycopg
            from sqlalchemy.exc import DBAPIError

            if isinstance(exc, psycopg.Error):
                raise DBAPIError.instance("COPY decisions", None, exc, psycopg.Error) from exc
            raise
        return
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in _COLUMNS)
        stamped = [
            row[:4]
            + (row[4].isoformat(),)
            + row[5:12]
            + (row[12].strftime("%Y-%m-%d %H:%M:%S.%f"),)
            + row[13:]
            for row in rows
        ]
        conn.exec_driver_sql(f"INSERT INTO decisions ({', '.join(_COLUMNS)}) VALUES ({marks})", stamped)
        return
    conn.execute(decisions.insert(), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


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
