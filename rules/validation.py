"""The engine's validator, derived from the declaration of the contact (rules/contact_fields.py).

One loop over the keys of an object, each value checked by the kind its field declares
(a nested object by this same loop), then the object's rules across fields. Every error is
collected, keyed by field (`patient.age` inside an object), with the message a client reads.
"""

from collections.abc import Callable
from functools import cache, partial

from .contact import Contact
from .contact_fields import CONTACT
from .errors import InvalidContact
from .field_kinds import MISSING, NOT_AN_OBJECT, NULL, UNKNOWN, ObjectKind
from .text import CONTROL_CHARACTERS, CONTROL_CHARACTERS_MESSAGE

_control = CONTROL_CHARACTERS.search
_ABSENT = object()
_MEMO_LIMIT = 4096


def parse_contact(data) -> Contact:
    """Validate one contact dict and return a Contact, or raise InvalidContact with every error."""
    return _parse_contact(data)


@cache
def object_parser(kind: ObjectKind) -> Callable[[object], object]:
    """The validator of one declared object: returns the built object or raises InvalidContact."""
    # The checked values go straight into the positional arguments of the built object.
    position = kind.positions()
    blank = [None] * len(position)
    for name, value in kind.defaults().items():
        blank[position[name]] = value
    entry_of = {f.name: (position[f.name], *_checks(f.kind)) for f in kind.fields}.get
    required = tuple(f.name for f in kind.fields if f.required)
    required_set = frozenset(required)
    rules = tuple((rule.field, rule.error) for rule in kind.rules)
    if issubclass(kind.build, tuple):  # a NamedTuple: its positional values are the tuple
        build = partial(tuple.__new__, kind.build)
    else:
        build = lambda values: kind.build(*values)  # noqa: E731
    built: dict | None = {} if kind.memo else None

    def parse(data):
        if not isinstance(data, dict):
            raise InvalidContact({"_schema": [NOT_AN_OBJECT]})
        values = blank.copy()
        errors = None
        for name, raw in data.items():
            entry = entry_of(name)
            if entry is None:
                errors = errors if errors is not None else {}
                errors[name] = [UNKNOWN]
                continue
            index, exact, allowed, check = entry
            if type(raw) is exact and (allowed is None or raw in allowed):
                values[index] = raw
                continue
            try:  # every check refuses None; it is told apart only once refused
                values[index] = check(raw)
                continue
            except InvalidContact as exc:  # a nested object: its errors under its name
                if raw is None:
                    message = NULL
                else:
                    errors = errors if errors is not None else {}
                    for inner, messages in exc.errors.items():
                        errors[name if inner == "_schema" else f"{name}.{inner}"] = messages
                    continue
            except ValueError as exc:
                if raw is None:
                    message = NULL
                elif type(raw) is str and _control(raw) is not None:
                    # Whatever else is wrong with it, text with control characters is told so.
                    message = CONTROL_CHARACTERS_MESSAGE
                else:
                    message = str(exc)
            errors = errors if errors is not None else {}
            errors[name] = [message]
        if required and not data.keys() >= required_set:
            errors = errors if errors is not None else {}
            for name in required:
                if name not in data:
                    errors[name] = [MISSING]
        for field, error in rules:
            message = error(data, values, position)
            if message is not None:
                errors = errors if errors is not None else {}
                errors[field] = [message]
        if errors:
            raise InvalidContact(errors)
        if built is None:
            return build(values)
        # Checked values have one type per field (true is not 1 here), so equal values build
        # equal objects, and built objects are immutable: one is shared by all equal inputs.
        key = tuple(values)
        found = built.get(key)
        if found is None:
            found = build(values)
            if len(built) < _MEMO_LIMIT:
                built[key] = found
        return found

    return parse


def _checks(kind) -> tuple:
    """(exact type, allowed values, check) of a field's kind: see Kind.as_is."""
    if isinstance(kind, ObjectKind):
        return None, None, object_parser(kind)
    exact, allowed = kind.as_is or (None, None)
    return exact, allowed, kind.check


_parse_contact = object_parser(CONTACT)
