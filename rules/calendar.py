"""Dates as the rules count them."""

import calendar as _calendar
import re
from datetime import date
from functools import lru_cache

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only


def parse_iso_date(value) -> date:
    """Strict YYYY-MM-DD (date.fromisoformat alone would also take '20220101' and week dates)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("Not a valid date: use YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("Not a valid date: use YYYY-MM-DD.") from None


@lru_cache(maxsize=8192)
def add_months(day: date, months: int) -> date:
    """Calendar months later; a day missing in the target month becomes its last day
    (2022-08-31 + 6 months = 2023-02-28), as Riksavtalet's 6-month invoicing limit is counted."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))
