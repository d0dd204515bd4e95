"""Times as the database keeps them: in UTC (SQLite keeps no zone, so every value is in the same one)."""

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """A time to store or compare with stored ones."""
    if moment.tzinfo is None:
        raise ValueError("a datetime without a time zone")
    return moment.astimezone(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as read back: SQLite hands datetimes back without a zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the API writes times."""
    return aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")
