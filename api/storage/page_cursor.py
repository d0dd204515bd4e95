"""The opaque cursor of a page read in (moment, seq) order: the decision log's lists and the
access log. base64 of "moment|seq" (the access log's with a "reads|" in front, so that neither
passes for the other), checked by writing it back: only a cursor this service wrote is taken, and
anything else, a moment near year 1 or 9999 or a seq past a BIGINT included, is a ValueError."""

import base64
from datetime import UTC, datetime

LARGEST_SEQ = 2**63 - 1  # a BIGINT


def encode(at: datetime, seq: int, kind: str = "") -> str:
    raw = f"{kind + '|' if kind else ''}{at.astimezone(UTC).isoformat()}|{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kind: str = "") -> tuple[datetime, int]:
    """The (moment, seq) of a cursor encode(..., kind) wrote, and only of one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, seq = raw.removeprefix(kind + "|" if kind else "").partition("|")
        moment, number = datetime.fromisoformat(at), int(seq)
        if moment.tzinfo is None or not 0 <= number <= LARGEST_SEQ or encode(moment, number, kind) != cursor:
            raise ValueError
        return moment, number
    except (ValueError, UnicodeDecodeError, OverflowError):  # Overflow: a moment near year 1 or 9999
        raise ValueError("Not a cursor returned by this service.") from None
