"""Exact money (integer öre) and the calendar the rules count with (SPEC sections 4-6)."""

import pickle
import re
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.calendar import add_months, parse_iso_date, stockholm_date, stockholm_today
from rules.json_numbers import WrittenFloat, as_float, loads
from rules.money import MAX_ORE, format_sek, format_sek_sv, parse_sek


@pytest.mark.parametrize(
    ("value", "ore"),
    [
        ("0", 0),
        ("0.5", 50),
        ("0.05", 5),
        ("450", 45000),
        ("450.00", 45000),
        ("1234.56", 123456),
        (0, 0),
        (450, 45000),
        (450.5, 45050),
        (0.1, 10),
        (123.45, 12345),
        (Decimal("99.90"), 9990),
        ("100000000.00", MAX_ORE),
    ],
)
def test_parse_sek_accepts(value, ore):
    assert parse_sek(value) == ore


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "-0.01",
        "450.005",
        "450,00",
        "1e3",
        "",
        " 1",
        "1 ",
        "450.",
        ".5",
        "+1",
        "١٢",  # Arabic-Indic digits: str.isdigit says yes, the contract says no
        -1,
        -0.5,
        0.125,
        0.1 + 0.2,
        float("nan"),
        float("inf"),
        True,
        False,
        None,
        [],
        {},
        "100000000.01",
        10**9,
    ],
)
def test_parse_sek_rejects(value):
    with pytest.raises(ValueError):
        parse_sek(value)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_ORE))
def test_format_then_parse_is_identity(ore):
    assert parse_sek(format_sek(ore)) == ore
    text = format_sek(ore)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2


def test_format_sek_sv_uses_swedish_typography():
    assert format_sek_sv(123456789) == "1\u00a0234\u00a0567,89"
    assert format_sek_sv(5) == "0,05"
    assert format_sek(5) == "0.05"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2022, 3, 15), 6, date(2022, 9, 15)),
        (date(2022, 8, 31), 6, date(2023, 2, 28)),  # SPEC 4: 2022-08-31 -> 2023-02-28
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2022, 7, 31), 6, date(2023, 1, 31)),  # across the year end, day exists
        (date(2022, 12, 31), 6, date(2023, 6, 30)),
        (date(2023, 6, 30), 6, date(2023, 12, 30)),
        (date(2022, 5, 31), 1, date(2022, 6, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2022, 1, 1), 0, date(2022, 1, 1)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.dates(min_value=date(2017, 1, 1), max_value=date(2030, 12, 31)), st.integers(min_value=0, max_value=36)
)
def test_add_months_properties(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (
        later.day < day.day and (later + (date(2000, 1, 2) - date(2000, 1, 1))).day == 1
    )
    assert later >= day


@pytest.mark.parametrize("text", ["2022-01-01", "2024-02-29", "2017-05-01"])
def test_parse_iso_date_accepts(text):
    assert parse_iso_date(text).isoformat() == text


@pytest.mark.parametrize(
    "text",
    [
        "20220101",
        "2022-13-01",
        "2022-02-30",
        "2023-02-29",
        "2022-1-5",
        "2022-W01-1",
        "2022-01-01T00:00",
        "2022-01-01\n",
        " 2022-01-01",
        20220101,
        None,
    ],
)
def test_parse_iso_date_rejects(text):
    with pytest.raises(ValueError):
        parse_iso_date(text)


@pytest.mark.parametrize("text", ["2000-01-01", "2100-12-31"])
def test_the_first_and_last_day_any_date_may_hold(text):
    assert parse_iso_date(text).isoformat() == text


@pytest.mark.parametrize("text", ["1999-12-31", "0241-05-01", "0001-01-01", "2101-01-01", "9999-12-31"])
def test_dates_before_2000_or_after_2100_are_refused(text):
    with pytest.raises(ValueError, match="Not a date from 2000-01-01 to 2100-12-31"):
        parse_iso_date(text)


@pytest.mark.parametrize(
    ("utc", "day"),
    [
        ("2026-11-29T22:59:59", "2026-11-29"),  # winter: Stockholm is UTC+1
        ("2026-11-29T23:00:00", "2026-11-30"),
        ("2026-06-30T21:59:59", "2026-06-30"),  # summer: UTC+2
        ("2026-06-30T22:00:00", "2026-07-01"),
        ("2026-03-28T23:00:00", "2026-03-29"),  # the night clocks go forward
        ("2026-10-24T22:00:00", "2026-10-25"),  # the night clocks go back
    ],
)
def test_today_is_the_calendar_date_in_stockholm(utc, day):
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert stockholm_date(moment.timestamp()).isoformat() == day


def test_stockholm_today_is_the_date_there_now():
    before = stockholm_date(time.time())
    today = stockholm_today()
    after = stockholm_date(time.time())
    assert before <= today <= after


@pytest.mark.parametrize(("text", "ore"), [("500", 50000), ("499.5", 49950), ("450.00", 45000), ("0", 0)])
def test_a_json_number_is_an_amount_as_written(text, ore):
    assert parse_sek(loads(text)) == ore


@pytest.mark.parametrize(
    "text",
    ["500.0000000000000001", "0.30000000000000001", "1e-400", "1E2", "5e-1", "450.001", "-0.0", "1e400"],
)
def test_a_json_number_that_a_float_would_round_is_refused_not_rounded(text):
    """Each of these reads as a float a valid amount would also give (500.0, 0.3, 0.0, 100.0...)."""
    with pytest.raises(ValueError):
        parse_sek(loads(text))


def test_json_keeps_the_text_of_a_number_with_a_fraction_or_exponent_and_reads_it_as_its_float():
    data = loads(b'{"a": 500.0000000000000001, "b": 1e-400, "c": 450, "d": [0.5]}')
    assert isinstance(data["a"], WrittenFloat) and data["a"].text == "500.0000000000000001"
    assert data["a"] == 500.0 and data["b"] == 0.0 and data["b"].text == "1e-400"
    assert type(data["c"]) is int and data["d"][0].text == "0.5"
    assert pickle.loads(pickle.dumps(data["a"])).text == "500.0000000000000001"  # to simulation workers
    assert orjson.dumps(data, default=as_float) == b'{"a":500.0,"b":0.0,"c":450,"d":[0.5]}'


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"\\udc00": 1}', "lone surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": "\xff"}', "can't decode byte 0xff"),
        (b"\xef\xbb\xbf{}", "Expecting value"),
        (b'{"a": 1} x', "Extra data"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_json_that_is_not_json_is_a_value_error_saying_why(text, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        loads(text)


def test_a_surrogate_pair_is_one_character():
    assert loads(b'["\\ud83d\\ude00"]') == ["\U0001f600"]
