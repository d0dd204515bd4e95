"""Dates as the rules count them."""

import calendar as _calendar
import re
import time
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# Every date the service takes in lies in these bounds (a contract from the year 0241 is a typo).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
DATE_NOTE = f"YYYY-MM-DD, from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
DATE_TIME_NOTE = (
    f"ISO 8601 with a Z or an offset (2022-03-01T08:00:00Z), dated from {FIRST_DAY.isoformat()} "
    f"to {LAST_DAY.isoformat()}"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only
_OUT_OF_BOUNDS = f"Not a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."

# "Today" for the rule that care not yet given is not billed (SPEC section 6) is Swedish time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def parse_iso_date(value) -> date:
    """Strict YYYY-MM-DD (date.fromisoformat alone would also take '20220101' and week dates),
    within FIRST_DAY..LAST_DAY."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("Not a valid date: use YYYY-MM-DD.")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("Not a valid date: use YYYY-MM-DD.") from None
    check_bounds(day)
    return day


def check_bounds(day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(_OUT_OF_BOUNDS)


def stockholm_date(timestamp: float) -> date:
    """The calendar date in Stockholm at a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, STOCKHOLM).date()


# (today, the timestamps at which it starts and ends): validation asks per contact, so the day is
# worked out once and reused until midnight (or until the clock is set back past its start).
_today = (date.min, 0.0, 0.0)


def stockholm_today() -> date:
    """Today's date in Stockholm."""
    global _today
    day, start, end = _today
    now = time.time()
    if start <= now < end:
        return day
    day = stockholm_date(now)
    start = datetime.combine(day, datetime.min.time(), STOCKHOLM).timestamp()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), STOCKHOLM).timestamp()
    _today = (day, start, end)
    return day


@lru_cache(maxsize=8192)
def add_months(day: date, months: int) -> date:
    """Calendar months later; a day missing in the target month becomes its last day
    (2022-08-31 + 6 months = 2023-02-28), as Riksavtalet's 6-month invoicing limit is counted."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))
