"""What a declared JSON object is made of: fields, the kinds of value they take, and rules across
fields. rules/contact_fields.py declares the contact with these; the engine's validator
(rules/validation.py) and the documented marshmallow schema (rules/schema.py) are derived from it.

A kind's `check` returns the value the engine keeps or raises ValueError with the message a client
reads; `json_schema` is what OpenAPI says of the same check, so the two are written side by side.
A rule across fields is written the same way: the test the validator runs (`condition`, Python
source, since the validator is generated) beside its message and what OpenAPI says of it.
"""

import inspect
import re
from dataclasses import dataclass
from datetime import date

from .calendar import DATE_NOTE, parse_iso_date
from .identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from .money import AMOUNT, MAX_ORE, format_sek, parse_sek
from .regions import REGIONS
from .text import CONTROL_CHARACTERS, CONTROL_CHARACTERS_MESSAGE, NO_CONTROL_CHARACTERS_PATTERN

MISSING = "Missing data for required field."
NULL = "Field may not be null."
UNKNOWN = "Unknown field."
NOT_AN_OBJECT = "Invalid input type: expected a JSON object."

_control = CONTROL_CHARACTERS.search


class Kind:
    """A kind of scalar JSON value."""

    note = ""  # what the documentation adds about the format, after the field's description
    # JSON values taken unchanged without calling check: (exact type, the allowed values or None
    # for all of that type). Exact: 1 == True, so a set alone would let 1 pass for true.
    as_is: tuple[type, frozenset | None] | None = None
    # Text already checked, and what check made of it (see _memo): looked up before calling check.
    known: dict | None = None

    def check(self, value):
        raise NotImplementedError

    def json_schema(self) -> dict:
        raise NotImplementedError

    def wire(self, value):
        """A kept value as JSON: how a default is documented."""
        return value


class Text(Kind):
    """Free text: no control characters (rules/text.py), no identity number (rules/identity_numbers.py).
    `repeats`: the same values come back line after line (provider ids, a few hundred care units),
    so what was checked is remembered (_memo); a contact_id is new on every line, so not there."""

    note = IDENTITY_NUMBER_MESSAGE

    def __init__(self, min_length: int, max_length: int, repeats: bool = False):
        self.min_length, self.max_length = min_length, max_length
        self._length_message = f"Length must be between {min_length} and {max_length}."
        if repeats:
            self.check = _memo(self.check)
            self.known = self.check.known

    def check(self, value):
        if not isinstance(value, str):
            raise ValueError("Not a valid string.")
        if not self.min_length <= len(value) <= self.max_length:
            raise ValueError(self._length_message)
        # isprintable() is false for every control character, and quick: the search only for doubt.
        if not value.isprintable() and _control(value) is not None:
            raise ValueError(CONTROL_CHARACTERS_MESSAGE)
        if holds_identity_number(value):
            raise ValueError(IDENTITY_NUMBER_MESSAGE)
        return value

    def json_schema(self) -> dict:
        return {
            "type": "string",
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "pattern": NO_CONTROL_CHARACTERS_PATTERN,
        }


class Choice(Kind):
    """One of a closed vocabulary (rules/vocabulary.py); case matters."""

    def __init__(self, options):
        self.options = tuple(options)
        self._allowed = frozenset(self.options)
        self._message = "Must be one of: " + ", ".join(self.options) + "."
        self.as_is = (str, self._allowed)

    def check(self, value):
        if isinstance(value, str) and value in self._allowed:
            return value
        raise ValueError(self.refusal(value))

    def refusal(self, value) -> str:
        return self._message

    def json_schema(self) -> dict:
        return {"type": "string", "enum": list(self.options)}


class Region(Choice):
    """A region code in use (länskod): 02, 11, 15 and 16 are retired."""

    def __init__(self):
        super().__init__(REGIONS)

    def refusal(self, value) -> str:
        if not isinstance(value, str):
            return 'Not a valid string: region codes are strings such as "25".'
        if holds_identity_number(value):  # not even said back
            return IDENTITY_NUMBER_MESSAGE
        return f"Not a region code in use: {value!r} (01, 03-10, 12-14, 17-25)."


class Boolean(Kind):
    """true or false only: not "yes", 1 or "true"."""

    as_is = (bool, None)

    def check(self, value):
        if value is True or value is False:
            return value
        raise ValueError("Not a valid boolean: use true or false.")

    def json_schema(self) -> dict:
        return {"type": "boolean"}


class Integer(Kind):
    def __init__(self, minimum: int, maximum: int):
        self.minimum, self.maximum = minimum, maximum
        if maximum - minimum <= 1000:
            self.as_is = (int, frozenset(range(minimum, maximum + 1)))
        self._range_message = (
            f"Must be greater than or equal to {minimum} and less than or equal to {maximum}."
        )

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, int):  # JSON 40.0 and true are not ages
            raise ValueError("Not a valid integer.")
        if not self.minimum <= value <= self.maximum:
            raise ValueError(self._range_message)
        return value

    def json_schema(self) -> dict:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


def _memo(parse, limit: int = 20_000):
    """Memoise a parser of text: in a file, dates, amounts and specialties repeat from line to line,
    and parsing them dominated validation. Only exact str is cached (hashable, immutable), failures
    never are, and the cache stops growing at `limit` entries so memory stays bounded. The cache is
    the check's `known`."""
    cache: dict = {}

    def check(value):
        if type(value) is str:
            found = cache.get(value)
            if found is not None:
                return found
            found = parse(value)
            if len(cache) < limit:
                cache[value] = found
            return found
        return parse(value)

    check.known = cache
    return check


_SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _slug(value) -> str:
    # fullmatch: a pattern's `$` would also accept a trailing newline.
    if not (isinstance(value, str) and _SLUG.fullmatch(value)):
        raise ValueError("Not a valid slug: lower-case letters, digits and _, e.g. primary_care.")
    if holds_identity_number(value):  # digits after a letter or _: a token as in free text
        raise ValueError(IDENTITY_NUMBER_MESSAGE)
    return value


class Slug(Kind):
    """Stored as sent, so held to the rule on identity numbers that free text is."""

    note = IDENTITY_NUMBER_MESSAGE
    check = staticmethod(_memo(_slug))
    known = check.__func__.known

    def json_schema(self) -> dict:
        return {"type": "string", "pattern": f"^{_SLUG.pattern}$"}


class Date(Kind):
    """YYYY-MM-DD only, within the bounds of rules/calendar.py."""

    note = DATE_NOTE
    check = staticmethod(_memo(parse_iso_date))
    known = check.__func__.known

    def json_schema(self) -> dict:
        return {"type": "string", "format": "date"}

    def wire(self, value: date) -> str:
        return value.isoformat()


class Money(Kind):
    """An exact amount in SEK, kept as integer öre (rules/money.py)."""

    note = (
        f'A decimal string such as "450.00" or a JSON number; at most 2 decimals as written, no '
        f"exponent, at most {format_sek(MAX_ORE)}. Never rounded."
    )
    check = staticmethod(_memo(parse_sek))
    known = check.__func__.known

    def json_schema(self) -> dict:
        return {
            "anyOf": [
                {"type": "string", "pattern": f"^{AMOUNT.pattern}$"},
                {"type": "number", "minimum": 0, "maximum": MAX_ORE // 100},
            ]
        }

    def wire(self, value: int) -> str:
        return format_sek(value)


@dataclass(frozen=True)
class Field:
    """One key of a declared object. `attribute` names where its value goes on the built object."""

    name: str
    kind: "Kind | ObjectKind"
    required: bool = False
    description: str = ""
    example: object = None
    attribute: str = ""

    def __post_init__(self):
        if not self.attribute:
            object.__setattr__(self, "attribute", self.name)


# Rules across fields. `condition(value_of)` is Python source that is true when the rule is broken
# (rules/validation.py writes it into the validator): `value_of(name)` is the source of a field's
# checked value (its default when it was not sent or refused), `data` the object as sent and `today`
# the day the contact is judged on. `message(today)` is then the error on `field`.


@dataclass(frozen=True)
class RequiredWhen:
    """`field` must be sent when `other` holds one of `values`."""

    field: str
    other: str
    values: tuple[str, ...]
    needs_today = False

    @property
    def names(self) -> tuple[str, ...]:
        return self.field, self.other

    def condition(self, value_of) -> str:
        return f"{self.field!r} not in data and {value_of(self.other)} in {self.values!r}"

    def message(self, today) -> str:
        return f"{MISSING} It is required for {_listed(self.values, 'and')}."

    @property
    def description(self) -> str:
        return f"Required when {self.other} is {_listed(self.values, 'or')}."


@dataclass(frozen=True)
class NotBefore:
    """`field`, when sent, is not earlier than `other`."""

    field: str
    other: str
    needs_today = False

    @property
    def names(self) -> tuple[str, ...]:
        return self.field, self.other

    def condition(self, value_of) -> str:
        later, earlier = value_of(self.field), value_of(self.other)
        return f"{later} is not None and {earlier} is not None and {later} < {earlier}"

    def message(self, today) -> str:
        return f"Must not be before {self.other}."

    @property
    def description(self) -> str:
        return f"Not before {self.other}."


@dataclass(frozen=True)
class NotAfterToday:
    """`field`, when sent, is not later than the day the contact is judged on: by default today in
    Stockholm (rules/calendar.py); a simulation judges as of LAST_DAY, so any year may be simulated."""

    field: str
    why: str
    needs_today = True

    @property
    def names(self) -> tuple[str, ...]:
        return (self.field,)

    def condition(self, value_of) -> str:
        return f"{value_of(self.field)} is not None and {value_of(self.field)} > today"

    def message(self, today) -> str:
        return f"Must not be after today ({today.isoformat()} in Sweden): {self.why}."

    @property
    def description(self) -> str:
        return f"Not after today (the date in Europe/Stockholm): {self.why}."


@dataclass(frozen=True, eq=False)
class ObjectKind:
    """A JSON object of declared fields, built into `build` (called with the values by attribute);
    unknown keys are refused. `name` is its name in the OpenAPI document. `memo`: build each
    distinct value once, for small objects that repeat from line to line."""

    name: str
    build: type
    fields: tuple[Field, ...]
    rules: tuple[RequiredWhen | NotBefore | NotAfterToday, ...] = ()
    description: str = ""
    memo: bool = False

    def __post_init__(self):
        by_name = {f.name: f for f in self.fields}
        if len(by_name) != len(self.fields):
            raise ValueError(f"{self.name}: a field is declared twice")
        for rule in self.rules:
            if any(name not in by_name for name in rule.names):
                raise ValueError(f"{self.name}: {rule} names an undeclared field")

    def positions(self) -> dict[str, int]:
        """Where each field's value goes among the positional arguments of `build`."""
        order = {name: index for index, name in enumerate(inspect.signature(self.build).parameters)}
        return {f.name: order[f.attribute] for f in self.fields}

    def defaults(self) -> dict:
        """What `build` holds for a field that is not sent, by field name: the one place defaults
        are written is the built class (rules/contact.py)."""
        parameters = inspect.signature(self.build).parameters
        empty = inspect.Parameter.empty
        return {
            f.name: parameters[f.attribute].default
            for f in self.fields
            if parameters[f.attribute].default is not empty
        }


def _listed(words, conjunction: str) -> str:
    return ", ".join(words[:-1]) + f" {conjunction} {words[-1]}" if len(words) > 1 else words[0]
