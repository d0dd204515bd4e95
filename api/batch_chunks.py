"""A batch, decided a chunk at a time: memory stays bounded (each chunk is stored and its lines let
go before the next is decided), and a bad line is listed under `rejected`, never dropped; so is a
line outside the API key's regions (api/key_regions.py)."""

from collections.abc import Iterator
from datetime import date, datetime
from typing import NamedTuple

import orjson

import rules
from rules.calendar import stockholm_date
from rules.evaluator import decide
from rules.identity_numbers import holds_identity_number
from rules.money import parse_sek
from rules.policy import Policy

from .decision_entry import Pending
from .issuing import entries_for, made_now
from .key_regions import REGION_ERROR, contact_refusal


class DecidedChunk(NamedTuple):
    rejected: list[dict]  # {"index" (in the whole batch), "contact_id", "errors"}
    summary: rules.Summary
    entries: list[Pending]


def decided_chunks(
    contacts: list,
    size: int,
    policy: Policy,
    evaluated_at: str,
    client: str,
    regions: frozenset[str] | None,
    shadow: Policy | None = None,
) -> Iterator[DecidedChunk]:
    """The batch's chunks of `size` lines, decided, in input order. Each chunk's lines are removed
    from `contacts` as it is decided. Every line is judged on the date (in Stockholm) of the
    batch's evaluated_at, however long the batch takes. `regions`: the client's key's (None: every
    region). `shadow`: the version in shadow, each line also decided under it (api/issuing.py)."""
    today = stockholm_date(datetime.fromisoformat(evaluated_at).timestamp())
    start = 0
    while contacts:
        items = contacts[:size]
        del contacts[:size]
        yield decide_chunk(items, start, policy, evaluated_at, client, today, regions, shadow)
        start += len(items)


def decide_chunk(
    items: list,
    start: int,
    policy: Policy,
    evaluated_at: str,
    client: str,
    today: date,
    regions: frozenset[str] | None,
    shadow: Policy | None = None,
) -> DecidedChunk:
    """Decide `items` (lines `start`... of a batch, as the client sent them) with `policy`. A
    valid line outside `regions` is rejected under the errors key REGION_ERROR, as the single
    contact's 403 says it."""
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
        refusal = contact_refusal(regions, verdict.contact)
        if refusal is not None:
            summary.add_rejected()
            errors = {REGION_ERROR: [refusal]}
            rejected.append({"index": index, "contact_id": verdict.contact_id, "errors": errors})
            continue
        summary.add(verdict)
        verdicts.append(verdict)
        received.append(item)
    entries = entries_for(verdicts, received, evaluated_at, client, policy, shadow)
    return DecidedChunk(rejected, summary, entries)


def answered_summary(chunk: DecidedChunk, answers: list[bytes]) -> rules.Summary:
    """The chunk's summary of the verdicts sent for it: a line the decision log answered with the
    decision it stored before (an identical resubmission, perhaps decided under an older policy)
    counts as that decision, not as the one just made."""
    summary = chunk.summary
    for entry, answer in zip(chunk.entries, answers, strict=True):
        if not made_now(entry, answer):
            stored = orjson.loads(answer)
            summary.add_decision(entry.decision, entry.reason, entry.amount_ore, times=-1)
            summary.add_decision(stored["decision"], stored["reason"], parse_sek(stored["amount_sek"]))
    return summary


def contact_id_of(item) -> str | None:
    """The line's contact_id to name it by under `rejected`: not an identity number, which is
    refused and not said back (a batch's answer is often kept as a file)."""
    value = item.get("contact_id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and not holds_identity_number(value) else None
