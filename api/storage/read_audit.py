"""Audited reads: who was sent which decisions, when, through which endpoint and query.

Every response that returns decisions (GET /v1/decisions/{id}, the list, the feed, a
readjudication) is recorded here before it is sent: if the record cannot be written, the
response is not sent (the outage or time limit answers 503, api/storage/service.py). The record is
append-only: this module only inserts, and no endpoint changes or deletes a record.

    reads.record(client=..., method="GET", path=..., query=..., decision_ids=[...])
    reads.find(decision_id="...")     # who saw this decision: GET /v1/access-log

A record is one row of decision_reads (its decision ids as a JSON array, in the response's order)
plus one row of decision_read_items per decision id, whose primary key starts with decision_id:
the reads of one decision are one range of it on either database.

On SQLite a record is a write, so a read of decisions takes its turn with the writers (a batch
being stored holds the one write lock until it commits); PostgreSQL writes it beside them.
"""

from datetime import UTC, datetime

import orjson
from sqlalchemy import Select, insert, select, tuple_
from sqlalchemy.engine import Engine

from . import page_cursor
from .decision_log import MAX_PAGE, Page
from .engine import writing
from .stored_time import aware, utc
from .tables import decision_read_items, decision_reads


class ReadAudit:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, *, client: str, method: str, path: str, query: str, decision_ids: list[str]) -> int:
        """Record one response that returned these decisions (none: an empty page, a 404), in one
        transaction committed on return; its seq."""
        unique = list(dict.fromkeys(decision_ids))
        row = {
            "at": datetime.now(UTC),
            "client": client,
            "method": method,
            "path": path,
            "query": query,
            "decision_ids": orjson.dumps(decision_ids).decode(),
        }
        with writing(self.engine) as conn:
            seq = conn.execute(insert(decision_reads).values(row)).inserted_primary_key[0]
            if unique:
                conn.execute(
                    insert(decision_read_items), [{"decision_id": d, "read_seq": seq} for d in unique]
                )
        return seq

    def find(
        self,
        *,
        client: str | None = None,
        at_from: datetime | None = None,
        at_to: datetime | None = None,
        decision_id: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page:
        """Records matching every given filter, oldest first by (at, seq); `at_to` is inclusive.
        Raises ValueError for a malformed cursor."""
        limit = max(1, min(limit, MAX_PAGE))
        query = find_query(
            client=client,
            at_from=at_from,
            at_to=at_to,
            decision_id=decision_id,
            after=decode_cursor(cursor) if cursor else None,
        ).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(aware(rows[-1].at), rows[-1].seq) if more else None
        return Page([_item(row) for row in rows], next_cursor)


def find_query(
    *,
    client: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
    decision_id: str | None = None,
    after: tuple[datetime, int] | None = None,
) -> Select:
    """The records matching every filter, after the (at, seq) `after`, in that order. With a
    decision_id, that decision's reads from decision_read_items' key (few: sorted); else by
    ix_decision_reads_client for a client, ix_decision_reads_at otherwise, in the page's order."""
    r = decision_reads.c
    query = select(decision_reads)
    if decision_id is not None:
        items = decision_read_items.c
        query = query.join(decision_read_items, items.read_seq == r.seq).where(
            items.decision_id == decision_id
        )
    if client is not None:
        query = query.where(r.client == client)
    if at_from is not None:
        query = query.where(r.at >= utc(at_from))
    if at_to is not None:
        query = query.where(r.at <= utc(at_to))
    if after is not None:
        query = query.where(tuple_(r.at, r.seq) > (utc(after[0]), after[1]))
    return query.order_by(r.at, r.seq)


def _item(row) -> dict:
    return {
        "seq": row.seq,
        "at": aware(row.at).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "client": row.client,
        "method": row.method,
        "path": row.path,
        "query": row.query,
        "decision_ids": orjson.loads(row.decision_ids),
    }


def encode_cursor(at: datetime, seq: int) -> str:
    return page_cursor.encode(at, seq, kind="reads")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    return page_cursor.decode(cursor, kind="reads")
