"""No personnummer or samordningsnummer in free text (issue 16 item 7): generated valid numbers in
every form are refused, on their own and set off inside longer text; generated near misses (a wrong
check digit, an impossible date, 11 digits, a longer run of digits) are taken.

The check digit here is worked out independently of rules/identity_numbers.py (digit sums of the
weighted digits), and anchored on published numbers."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from api import examples
from rules.identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from rules.schema import ContactSchema

TODAY = date(2026, 11, 29)  # births before it; any fixed day serves (the date test is calendar only)
REFUSED = [IDENTITY_NUMBER_MESSAGE]
SETTINGS = settings(max_examples=400, deadline=None)
# Text around an embedded number: anything but digits and control characters.
NON_DIGITS = st.text(st.characters(exclude_categories=("Nd", "Cc", "Cs")), min_size=1, max_size=20)


def check_digit(nine: str) -> int:
    """Luhn: weights 2,1,2,1..., the digit sum of each product, the digit that tops up to a ten."""
    total = sum(sum(map(int, str(int(d) * (2 if i % 2 == 0 else 1)))) for i, d in enumerate(nine))
    return (10 - total % 10) % 10


def line(**changes) -> dict:
    return dict(examples.NORRBOTTEN_VIDEO, **changes)


def errors_of(contact: dict) -> dict:
    try:
        rules.parse_contact(contact, TODAY)
    except rules.InvalidContact as exc:
        return exc.errors
    return {}


@st.composite
def identity_numbers(draw) -> str:
    """A valid personnummer or samordningsnummer in one of its written forms."""
    born = draw(st.dates(date(1850, 1, 1), TODAY))
    coordination = draw(st.booleans())
    day = born.day + 60 if coordination else born.day
    serial = draw(st.integers(0, 999))
    ten = f"{born:%y%m}{day:02d}{serial:03d}"
    ten += str(check_digit(ten))
    form = draw(st.sampled_from(("10", "10-sep", "12", "12-sep")))
    if form == "10":
        return ten
    if form == "10-sep":
        hundred = born <= TODAY.replace(year=TODAY.year - 100)
        return f"{ten[:6]}{'+' if hundred else '-'}{ten[6:]}"
    twelve = f"{born.year // 100}{ten}"
    return twelve if form == "12" else f"{twelve[:8]}-{twelve[8:]}"


@st.composite
def wrong_check_digits(draw) -> str:
    number = draw(identity_numbers())
    wrong = (int(number[-1]) + draw(st.integers(1, 9))) % 10
    return number[:-1] + str(wrong)


@st.composite
def impossible_dates(draw) -> str:
    """A right check digit over a date no calendar has (a samordningsnummer's day too)."""
    month, day = draw(
        st.one_of(
            st.tuples(st.sampled_from((0, *range(13, 100))), st.integers(1, 28)),  # no such month
            st.tuples(st.integers(1, 12), st.sampled_from((0, *range(32, 61), *range(92, 100)))),
            st.tuples(st.sampled_from((4, 6, 9, 11)), st.sampled_from((31, 91))),
            st.tuples(st.just(2), st.sampled_from((30, 31, 90, 91))),
        )
    )
    year = draw(st.integers(1850, 2026))
    head = f"{year % 100:02d}{month:02d}{day:02d}{draw(st.integers(0, 999)):03d}"
    ten = head + str(check_digit(head))
    return draw(st.sampled_from((ten, f"{ten[:6]}-{ten[6:]}", f"{year // 100}{ten}")))


@st.composite
def not_a_leap_year(draw) -> str:
    """29 February in a year without one: 12 digits carry the year, so it is told."""
    year = draw(st.integers(1850, 2026).filter(lambda y: not (y % 4 == 0 and (y % 100 or y % 400 == 0))))
    head = f"{year % 100:02d}0229{draw(st.integers(0, 999)):03d}"
    return f"{year // 100}{head}{check_digit(head)}"


@st.composite
def eleven_digits(draw) -> str:
    """A valid number with one digit more or less, the separator kept where it was."""
    number = draw(identity_numbers())
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    at = draw(st.sampled_from(digits))
    if len(digits) == 12:
        return number[:at] + number[at + 1 :]
    return number[:at] + str(draw(st.integers(0, 9))) + number[at:]


def test_published_numbers_are_identity_numbers():
    # Skatteverket's test personnummer (Tolvan Tolvansson) and its samordningsnummer example.
    for number in ("19121212-1212", "191212121212", "121212-1212", "1212121212", "701063-2391"):
        assert holds_identity_number(number), number
    assert not holds_identity_number("19121212-1213")


@SETTINGS
@given(identity_numbers())
def test_a_valid_number_in_any_form_is_refused_in_every_free_text_field(number):
    assert holds_identity_number(number)
    assert errors_of(line(contact_id=number)) == {"contact_id": REFUSED}
    assert errors_of(line(provider_id=number)) == {"provider_id": REFUSED}


@SETTINGS
@given(identity_numbers(), NON_DIGITS, NON_DIGITS)
def test_a_number_set_off_by_non_digits_inside_longer_text_is_refused(number, before, after):
    """The choice documented in rules/identity_numbers.py: an id built from the patient's number."""
    assert errors_of(line(contact_id=before + number + after)) == {"contact_id": REFUSED}
    digits = number.replace("-", "").replace("+", "")
    assert errors_of(line(specialty=f"x_{digits}")) == {"specialty": REFUSED}


@SETTINGS
@given(identity_numbers(), st.sampled_from(("7", "123")), st.sampled_from(("before", "after")))
def test_a_number_inside_a_longer_run_of_digits_is_another_number_and_taken(number, digits, where):
    # 1 or 3 digits more: 11, 13 or 15 in a run (2 more could make a 12-digit number of its own).
    text = f"L{digits}{number}" if where == "before" else f"{number}{digits}X"
    assert not holds_identity_number(text)
    assert errors_of(line(contact_id=text)) == {}


@SETTINGS
@given(st.one_of(wrong_check_digits(), impossible_dates(), not_a_leap_year(), eleven_digits()))
def test_near_misses_are_taken(text):
    assert not holds_identity_number(text)
    assert errors_of(line(contact_id=text, provider_id=f"SE-{text}")) == {}


def test_a_leap_day_counts_when_the_year_is_not_written():
    head = "000229123"  # 1900 had no 29 February, 2000 did: 10 digits do not say which
    ten = head + str(check_digit(head))
    assert holds_identity_number(ten)
    assert not holds_identity_number(f"19{ten}")
    assert holds_identity_number(f"20{ten}")


def test_a_12_digit_number_is_born_in_the_1800s_1900s_or_2000s():
    ten = "1212121212"
    assert [holds_identity_number(c + ten) for c in ("17", "18", "19", "20", "21")] == [
        False,
        True,
        True,
        True,
        False,
    ]


# The zero of some scripts whose digits are Unicode decimal digits (Nd), as `\d` matches them:
# ASCII, Arabic-Indic, Devanagari, fullwidth, mathematical bold.
ZEROS = ("0", "\u0660", "\u0966", "\uff10", "\U0001d7ce")


@st.composite
def numbers_in_any_script(draw) -> str:
    """A valid number, each digit in any script, its head of 6 or 8 digits and its 4 set apart by
    nothing, - or +."""
    digits = draw(identity_numbers()).replace("-", "").replace("+", "")
    written = "".join(chr(ord(draw(st.sampled_from(ZEROS))) + int(d)) for d in digits)
    return written[:-4] + draw(st.sampled_from(("", "-", "+"))) + written[-4:]


@SETTINGS
@given(numbers_in_any_script(), NON_DIGITS, NON_DIGITS)
def test_a_number_in_any_digits_and_with_any_separator_is_refused(number, before, after):
    """What the pattern finds, the quick check before it (ten digits in a row) never rules out:
    digits of every script, + and - after a head of 6 or 8 digits."""
    assert holds_identity_number(number)
    assert holds_identity_number(before + number + after)


def test_digits_of_other_scripts_are_digits():
    arabic_indic = "19121212-1212".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert errors_of(line(contact_id=arabic_indic)) == {"contact_id": REFUSED}


def test_the_message_says_so_in_english_and_swedish_and_never_repeats_the_number():
    errors = errors_of(line(contact_id="19121212-1212", home_region="191212121212"))
    assert errors["contact_id"] == REFUSED
    assert "must not be sent" in IDENTITY_NUMBER_MESSAGE and "får inte skickas" in IDENTITY_NUMBER_MESSAGE
    assert "1212" not in str(errors)


def test_a_repeated_provider_id_is_refused_every_time():
    """provider_id's check is remembered per value (they repeat): a refusal never is."""
    for _ in range(3):
        assert errors_of(line(provider_id="SE191212121212-1")) == {"provider_id": REFUSED}
    assert errors_of(line(provider_id="SE2321000016-KRY1")) == {}


@pytest.mark.parametrize("text", ["SE2321000016-KRY1", "SE162321000255-K001", "INV-2022-0001-1"])
def test_hsa_ids_and_ordinary_ids_are_taken(text):
    """An organisationsnummer's month is 20 or more: an HSA-id built from one is never a date."""
    assert not holds_identity_number(text)


def test_the_document_says_it_on_the_free_text_fields():
    for name in ("contact_id", "provider_id", "specialty"):
        assert IDENTITY_NUMBER_MESSAGE in ContactSchema().fields[name].metadata["description"]
