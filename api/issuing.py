"""Where a verdict becomes a decision the service answers with.

decision_id and evaluated_at are assigned here and nowhere else, and a recorder (the decision log)
sees every record before the client does. A recorder is a callable
`record(verdicts, received, records) -> None` (`received`: each contact as the client sent it),
installed with `set_decision_recorder(app, record)`; it may store the records, and may replace a
record by the JSON text it stored (an orjson.Fragment; the original decision, for an idempotent
repeat), which is then sent as it is.
If it raises, the request fails (500) and nothing is answered as decided.
"""

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from flask import Flask, current_app

from rules import Verdict

EXTENSION = "utomlans.decision_recorder"

Recorder = Callable[[Sequence[Verdict], Sequence[dict], list], None]


def set_decision_recorder(app: Flask, recorder: Recorder | None) -> None:
    app.extensions[EXTENSION] = recorder


def evaluated_at_now() -> str:
    """UTC, ISO 8601 with a Z, to the microsecond."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_decision_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as strings: one urandom call instead of one per id."""
    raw = bytearray(os.urandom(16 * count))
    ids = []
    for start in range(0, 16 * count, 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40  # version 4
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 9562 variant
        h = raw[start : start + 16].hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids


def issue(verdicts: Sequence[Verdict], received: Sequence[dict], evaluated_at: str | None = None) -> list:
    """The response records (SPEC section 6 verdicts) for `verdicts`, in order, recorded;
    `received[i]` is the contact of `verdicts[i]` as the client sent it.

    One evaluated_at is used for all verdicts of one call (a batch is decided at one moment)."""
    stamp = evaluated_at or evaluated_at_now()
    records = []
    for decision_id, verdict in zip(new_decision_ids(len(verdicts)), verdicts, strict=True):
        record = {"decision_id": decision_id}
        record.update(verdict.to_dict())
        record["evaluated_at"] = stamp
        records.append(record)
    recorder = current_app.extensions.get(EXTENSION)
    if recorder is not None:
        recorder(verdicts, received, records)
    return records
