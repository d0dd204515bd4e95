"""Exact money as integer öre. Clients send decimal strings or JSON numbers; floats never enter.

A JSON number is taken as written (rules/json_numbers.py keeps its text): an amount is accepted
only when its text has at most 2 decimals and no exponent, as for a string, and is never rounded.
"""

import re
from decimal import Decimal

from .json_numbers import WrittenFloat

AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")  # ASCII digits: \d also matches "١٢٣"
MAX_ORE = 100_000_000_00  # 100 million SEK: no single contact is billed more
_NUMBER = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")  # a JSON number without an exponent


def parse_sek(value) -> int:
    """Return öre for a non-negative amount with at most 2 decimals, or raise ValueError(message).

    A string or a number read from JSON is checked as written. A float handed over in Python is
    taken at its shortest repr and a Decimal at its str, which say the same value."""
    if isinstance(value, str):
        if not AMOUNT.fullmatch(value):
            raise ValueError('Not a non-negative amount with at most 2 decimals, e.g. "450.00".')
        return _ore(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError('Not a number: send a decimal string such as "450.00".')
    if isinstance(value, int):
        if value < 0:
            raise ValueError("Must be greater than or equal to 0.")
        return _at_most_max(value * 100)
    text = value.text if isinstance(value, WrittenFloat) else str(value)
    if not AMOUNT.fullmatch(text):
        raise ValueError(_refusal(text))
    return _ore(text)


def _refusal(text: str) -> str:
    """Why the text of a number is not an amount."""
    number = _NUMBER.fullmatch(text)
    if number is None:
        if text.lstrip("-").lower() in ("nan", "snan", "inf", "infinity"):
            return "Not a finite number."
        return 'No exponent: write the amount as it is, e.g. 450.00 or "450.00" (never rounded).'
    if text.startswith("-"):
        return "Must be greater than or equal to 0."
    decimals = number.group(1)
    if decimals is not None and len(decimals) > 2:
        return "At most 2 decimals."
    return "Must be at most 100000000.00."


def _ore(text: str) -> int:
    whole, _, frac = text.partition(".")
    return _at_most_max(int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0))


def _at_most_max(ore: int) -> int:
    if ore > MAX_ORE:
        raise ValueError("Must be at most 100000000.00.")
    return ore


def format_sek(ore: int) -> str:
    """'1234.50' — the wire format of amounts."""
    kronor, ore = divmod(ore, 100)
    return f"{kronor}.{ore:02d}"


def format_sek_sv(ore: int) -> str:
    """'1 234,50' — Swedish typography for explanations."""
    kronor, ore = divmod(ore, 100)
    if kronor < 1000:
        return f"{kronor},{ore:02d}"
    return f"{kronor:,}".replace(",", "\u00a0") + f",{ore:02d}"
