"""Exact money as integer öre. Clients send decimal strings or JSON numbers; floats never enter."""

import re
from decimal import Decimal

AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")  # ASCII digits: \d also matches "١٢٣"
MAX_ORE = 100_000_000_00  # 100 million SEK: no single contact is billed more


def parse_sek(value) -> int:
    """Return öre for a non-negative amount with at most 2 decimals, or raise ValueError(message)."""
    if isinstance(value, str):
        if not AMOUNT.fullmatch(value):
            raise ValueError('Not a non-negative amount with at most 2 decimals, e.g. "450.00".')
        whole, _, frac = value.partition(".")
        ore = int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0)
    elif isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError('Not a number: send a decimal string such as "450.00".')
    elif isinstance(value, int):
        if value < 0:
            raise ValueError("Must be greater than or equal to 0.")
        ore = value * 100
    else:
        # A JSON number: the shortest repr of a float is the literal the client wrote.
        dec = value if isinstance(value, Decimal) else Decimal(repr(value))
        if not dec.is_finite():
            raise ValueError("Not a finite number.")
        if dec < 0:
            raise ValueError("Must be greater than or equal to 0.")
        scaled = dec * 100
        if scaled != scaled.to_integral_value():
            raise ValueError("At most 2 decimals.")
        ore = int(scaled)
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
