"""Masks what could be a personnummer or samordningsnummer in text the service writes about a
request (its path and query in gunicorn's access log and in the record of audited reads).

The service refuses such numbers in every field (rules/identity_numbers.py), but a refused request,
or a path id that found nothing, would still be written down as sent. Any run of 10 or 12 digits,
maybe with a separator (as written or percent-encoded), is masked, valid number or not: a record
loses nothing a reader needs. Standard library only: gunicorn's master imports it with the logger.
"""

import re

MASK = "<masked>"
_IDENTITY_NUMBER_LIKE = re.compile(r"(?<!\d)(?:\d{6}|\d{8})(?:[-+ ]|%2[BbDd]|%20)?\d{4}(?!\d)")


def masked(text: str | None) -> str | None:
    return _IDENTITY_NUMBER_LIKE.sub(MASK, text) if text else text
