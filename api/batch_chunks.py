"""A batch, decided a chunk at a time: memory stays bounded (each chunk is stored and its lines let
go before the next is decided), and a bad line is listed under `rejected`, never dropped."""

from collections.abc import Iterator
from datetime import date, datetime
from typing import NamedTuple

import rules
from rules.calendar import stockholm_date
from rules.evaluator import decide
from rules.policy import Policy

from .decision_entry import Pending
from .issuing import entries_for


class DecidedChunk(NamedTuple):
    rejected: list[dict]  # {"index" (in the whole batch), "contact_id", "errors"}
    summary: rules.Summary
    entries: list[Pending]


def decided_chunks(
    contacts: list, size: int, policy: Policy, evaluated_at: str, client: str
) -> Iterator[DecidedChunk]:
    """The batch's chunks of `size` lines, decided, in input order. Each chunk's lines are removed
    from `contacts` as it is decided. Every line is judged on the date (in Stockholm) of the
    batch's evaluated_at, however long the batch takes."""
    today = stockholm_date(datetime.fromisoformat(evaluated_at).timestamp())
    start = 0
    while contacts:
        items = contacts[:size]
        del contacts[:size]
        yield decide_chunk(items, start, policy, evaluated_at, client, today)
        start += len(items)


def decide_chunk(
    items: list, start: int, policy: Policy, evaluated_at: str, client: str, today: date
) -> DecidedChunk:
    """Decide `items` (lines `start`... of a batch, as the client sent them) with `policy`."""
    summary = rules.Summary()
    rejected = []
    verdicts = []
    received = []
    for index, item in enumerate(items, start):
        try:
            verdict = decide(rules.parse_contact(item, today), policy)
        except rules.InvalidContact as exc:
            summary.add_rejected()
            rejected.append({"index": index, "contact_id": contact_id_of(item), "errors": exc.errors})
            continue
        summary.add(verdict)
        verdicts.append(verdict)
        received.append(item)
    return DecidedChunk(rejected, summary, entries_for(verdicts, received, evaluated_at, client))


def contact_id_of(item) -> str | None:
    value = item.get("contact_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None
