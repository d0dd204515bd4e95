"""Masks what could be a personnummer or samordningsnummer in text the service writes about a
request (its path and query in gunicorn's access log and in the record of audited reads).

The service refuses such numbers in every field (rules/identity_numbers.py), but a refused request,
or a path id that found nothing, would still be written down as sent. Any run of 10 or 12 digits,
maybe with a separator (as written or percent-encoded), is masked, valid number or not: a record
loses nothing a reader needs. A UUID is left whole, though its last group may be 12 digits: it is
the decision id a record is about. Standard library only: gunicorn's master imports it with the
logger.
"""

import re

MASK = "<masked>"
_HEX = "[0-9a-fA-F]"
_UUID_OR_IDENTITY_NUMBER_LIKE = re.compile(
    rf"(?P<uuid>{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})"
    r"|(?<!\d)(?:\d{6}|\d{8})(?:[-+ ]|%2[BbDd]|%20)?\d{4}(?!\d)"
)


def masked(text: str | None) -> str | None:
    if not text:
        return text
    return _UUID_OR_IDENTITY_NUMBER_LIKE.sub(lambda match: match["uuid"] or MASK, text)
