"""No Swedish identity numbers in text from clients (issue 16 item 7): the decision log holds health
data per contact, and a personnummer or samordningsnummer would tie it to a named patient. A text
that holds one is refused, with one message, and so is never stored.

An identity number here: 10 digits YYMMDDNNNC or 12 digits YYYYMMDDNNNC (century 18, 19 or 20),
with or without a `-` or `+` before the last four; MMDD a date (a samordningsnummer adds 60 to the
day: 61-91) and C the Luhn check digit over the 10-digit form. A 10-digit form's century is not
written, so its date counts when some century has it: 20YY has every leap day that 19YY has.
Any Unicode decimal digits count, as `int` reads them.

Inside longer text too, beyond the issue's "a field that is" one: a number set off by non-digits
("L-19121212-1212", "pnr 121212-1212") is refused as a whole field is. An id built from the
patient's number is how one reaches a billing line, and the log must never hold one. The cost:
about one in 140 ids that hold ten arbitrary digits as a token is refused, with a message that
says why. A run of digits of another length (11, 13 or more, or a separator in another place) is
another number, an account or an invoice number, and is not searched inside: each 10-digit window
of it would be a false alarm at that rate.

Cheap where it matters: the validator asks this of every contact_id. Most text holds no ten digits
in a row (six, perhaps a separator, four), which a plain search rules out more cheaply than the
candidate pattern with its lookarounds; only then are candidates sought, and each is checked for
its date and check digit. (An HSA-id does hold ten: its organisationsnummer, whose month is 20
or more so that it is never a date.)
"""

import re
from datetime import date

IDENTITY_NUMBER_MESSAGE = (
    "Identity numbers must not be sent: no personnummer or samordningsnummer (10 or 12 digits, with "
    "or without - or + before the last four, a date and a valid check digit), alone or set off by "
    "other characters. Person- och samordningsnummer får inte skickas."
)

# A run of 6 or 8 digits, perhaps a separator, then a run of exactly 4: the whole digit runs.
_CANDIDATE = re.compile(r"(?<!\d)(\d{6}|\d{8})[-+]?(\d{4})(?!\d)")
# What every candidate holds: six digits, perhaps a separator, four (the last six of an 8-digit head).
_TEN_DIGITS = re.compile(r"\d{6}[-+]?\d{4}")
_CENTURIES = frozenset((18, 19, 20))


def holds_identity_number(text: str) -> bool:
    """Whether `text` is, or holds as a token set off by non-digits, a personnummer or
    samordningsnummer."""
    if _TEN_DIGITS.search(text) is None:
        return False
    for head, tail in _CANDIDATE.findall(text):
        if _is_identity_number(head, tail):
            return True
    return False


def _is_identity_number(head: str, tail: str) -> bool:
    digits = [int(c) for c in head + tail]
    if len(digits) == 12:
        if digits[0] * 10 + digits[1] not in _CENTURIES:
            return False
        year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
        digits = digits[2:]
    else:
        year = 2000 + digits[0] * 10 + digits[1]
    month, day = digits[2] * 10 + digits[3], digits[4] * 10 + digits[5]
    if day > 60:
        day -= 60
    try:
        date(year, month, day)
    except ValueError:
        return False
    return _luhn_check_digit(digits[:9]) == digits[9]


def _luhn_check_digit(digits: list[int]) -> int:
    total = 0
    for position, digit in enumerate(digits):
        product = digit * (2 - position % 2)  # weights 2, 1, 2, 1, ...
        total += product - 9 if product > 9 else product
    return -total % 10
