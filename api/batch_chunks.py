"""One chunk of a batch, decided: the same pure function runs in the worker and in its helper
process (api/batch_helper), so a verdict never depends on where it was decided."""

from typing import NamedTuple

import orjson

import rules
from rules.evaluator import decide
from rules.policy import Policy

from .issuing import entries_for, records_for


class DecidedChunk(NamedTuple):
    rejected: list[dict]  # {"index" (in the whole batch), "contact_id", "errors"}
    summary: rules.Summary
    entries: list  # decision_entry.Pending when a recorder stores them, else each verdict's JSON


def decide_chunk(
    items: list,
    start: int,
    policy: Policy,
    evaluated_at: str,
    client: str,
    recorded: bool,
) -> DecidedChunk:
    """Decide `items` (lines `start`... of a batch, as the client sent them) with `policy`. A bad
    line is listed under rejected with its index, never dropped."""
    summary = rules.Summary()
    rejected = []
    verdicts = []
    received = []
    for index, item in enumerate(items, start):
        try:
            verdict = decide(rules.parse_contact(item), policy)
        except rules.InvalidContact as exc:
            summary.add_rejected()
            rejected.append({"index": index, "contact_id": contact_id_of(item), "errors": exc.errors})
            continue
        summary.add(verdict)
        verdicts.append(verdict)
        received.append(item)
    records = records_for(verdicts, evaluated_at)
    if recorded:
        entries = entries_for(verdicts, received, records, evaluated_at, client)
    else:
        entries = [orjson.dumps(record) for record in records]
    return DecidedChunk(rejected, summary, entries)


def contact_id_of(item) -> str | None:
    value = item.get("contact_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None
