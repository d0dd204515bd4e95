"""The engine's validator, generated from the declaration of the contact (rules/contact_fields.py).

For each declared object one function is written when this module is imported, field by field in
declared order: take the value; take it as it is when its kind allows (Kind.as_is: a vocabulary
word, a boolean, a small integer) or look it up among text already checked (Kind.known: dates,
amounts, provider ids); else call its kind's check (a nested object: its own function), noting what is wrong;
then the rules across fields, each written out from its `condition` (`today`, the validator's
second argument, defaults to today's date in Stockholm); then build the object. Written out
rather than looped over at run time because validation is part of the engine's speed goal, and a
loop's bookkeeping per field cost as much as the checks themselves.
`inspect.getsource(rules.parse_contact)` shows the code.

Every error is collected, keyed by field (`patient.age` inside an object), with the message a
client reads.

What is written for one field (home_region, whose kind allows a vocabulary word as it is):

    v2 = get('home_region', ABSENT)
    if v2 is ABSENT:                          # missing: an error if required, else the default
        errors = missing(errors, 'home_region')
        absent += 1
        v2 = default2
    elif type(v2) is exact2 and v2 in allowed2:
        pass                                  # a region code as it is
    else:
        try:
            v2 = check2(v2)                   # the kind's check: its value, or ValueError
        except ValueError as exc:
            errors = refused(errors, 'home_region', v2, exc)
            v2 = default2

`vN` is the value of the built object's Nth argument. Unknown keys are found by counting: when
the fields present (all declared, less those absent) do not number the keys sent, some key is not
declared. An object is built with tuple.__new__ when it is a NamedTuple (the Contact), skipping a
__new__ of its own, so its class must not validate in __new__: everything is checked here.
"""

import linecache
from collections.abc import Callable
from functools import cache

from .calendar import stockholm_today
from .contact import Contact
from .contact_fields import CONTACT
from .errors import InvalidContact
from .field_kinds import MISSING, NOT_AN_OBJECT, NULL, UNKNOWN, ObjectKind
from .text import CONTROL_CHARACTERS, CONTROL_CHARACTERS_MESSAGE

_control = CONTROL_CHARACTERS.search
_ABSENT = object()
_MEMO_LIMIT = 4096


@cache
def object_parser(kind: ObjectKind) -> Callable[[object], object]:
    """The validator of one declared object: returns the built object or raises InvalidContact."""
    position = kind.positions()
    if sorted(position.values()) != list(range(len(position))):
        raise ValueError(f"{kind.name}: every argument of {kind.build.__name__} must be a declared field")
    defaults = kind.defaults()
    names = frozenset(position)
    scope = {
        "ABSENT": _ABSENT,
        "InvalidContact": InvalidContact,
        "NOT_AN_OBJECT": NOT_AN_OBJECT,
        "missing": _missing,
        "refused": _refused,
        "unknown": _unknown,
        "names": names,
        "broken": _broken,
        "stockholm_today": stockholm_today,
        "build": kind.build,
        "built": {},
        "new": tuple.__new__,
        "MEMO_LIMIT": _MEMO_LIMIT,
    }
    lines = [
        "def parse(data, today=None):",
        "    if type(data) is not dict and not isinstance(data, dict):",
        '        raise InvalidContact({"_schema": [NOT_AN_OBJECT]})',
        "    get = data.get",
        "    errors = None",
        "    absent = 0",
    ]
    for field in kind.fields:
        at = position[field.name]
        value, name = f"v{at}", repr(field.name)
        scope[f"default{at}"] = defaults.get(field.name)
        lines += [f"    # {field.name}", f"    {value} = get({name}, ABSENT)", f"    if {value} is ABSENT:"]
        if field.required:
            lines.append(f"        errors = missing(errors, {name})")
        lines += ["        absent += 1", f"        {value} = default{at}"]
        if isinstance(field.kind, ObjectKind):
            scope[f"check{at}"] = object_parser(field.kind)
        else:
            scope[f"check{at}"] = field.kind.check
            if field.kind.as_is is not None:
                scope[f"exact{at}"], scope[f"allowed{at}"] = field.kind.as_is
                test = f"type({value}) is exact{at}"
                if field.kind.as_is[1] is not None:
                    test += f" and {value} in allowed{at}"
                lines += [f"    elif {test}:", "        pass"]
            if field.kind.known is not None:
                scope[f"known{at}"] = field.kind.known.get  # what check made of it; never None
                lines += [
                    f"    elif type({value}) is str and (found := known{at}({value})) is not None:",
                    f"        {value} = found",
                ]
        lines += [
            "    else:",
            "        try:",
            f"            {value} = check{at}({value})",
            "        except ValueError as exc:",
            f"            errors = refused(errors, {name}, {value}, exc)",
            f"            {value} = default{at}",
        ]
    lines += [
        f"    if absent + len(data) != {len(position)}:",
        "        errors = unknown(errors, data, names)",
    ]
    if any(rule.needs_today for rule in kind.rules):
        lines += ["    if today is None:", "        today = stockholm_today()"]
    for number, rule in enumerate(kind.rules):
        scope[f"rule{number}"] = rule
        lines += [
            f"    if {rule.condition(lambda name: f'v{position[name]}')}:",
            f"        errors = broken(errors, {rule.field!r}, rule{number}.message(today))",
        ]
    lines += ["    if errors:", "        raise InvalidContact(errors)"]
    values = ", ".join(f"v{at}" for at in range(len(position)))
    if not kind.memo:
        built_by = "new(build, (" + values + ",))" if issubclass(kind.build, tuple) else f"build({values})"
        lines.append(f"    return {built_by}")
    else:
        # Checked values have one type per field (true is not 1 here), so equal values build
        # equal objects, and built objects are immutable: one is shared by all equal inputs.
        lines += [
            f"    values = ({values},)",
            "    found = built.get(values)",
            "    if found is None:",
            "        found = build(*values)",
            "        if len(built) < MEMO_LIMIT:",
            "            built[values] = found",
            "    return found",
        ]
    source = "\n".join(lines) + "\n"
    filename = f"<validator of {kind.name}, generated by rules/validation.py>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - our own source, from the declaration
    return scope["parse"]


def _missing(errors: dict | None, name: str) -> dict:
    errors = errors if errors is not None else {}
    errors[name] = [MISSING]
    return errors


def _refused(errors: dict | None, name: str, raw, exc: ValueError) -> dict:
    """Note why a value was refused; every check refuses None, told apart only here."""
    errors = errors if errors is not None else {}
    if raw is None:
        errors[name] = [NULL]
    elif isinstance(exc, InvalidContact):  # a nested object: its errors under its name
        for inner, messages in exc.errors.items():
            errors[name if inner == "_schema" else f"{name}.{inner}"] = messages
    elif type(raw) is str and _control(raw) is not None:
        # Whatever else is wrong with it, text with control characters is told so.
        errors[name] = [CONTROL_CHARACTERS_MESSAGE]
    else:
        errors[name] = [str(exc)]
    return errors


def _broken(errors: dict | None, name: str, message: str) -> dict:
    errors = errors if errors is not None else {}
    errors.setdefault(name, []).append(message)
    return errors


def _unknown(errors: dict | None, data: dict, names: frozenset) -> dict:
    errors = errors if errors is not None else {}
    for key in data:
        if key not in names:
            errors[key] = [UNKNOWN]
    return errors


parse_contact: Callable[[object], Contact] = object_parser(CONTACT)
parse_contact.__name__ = parse_contact.__qualname__ = "parse_contact"
parse_contact.__module__ = __name__
parse_contact.__doc__ = """Validate one contact dict and return a Contact, or raise InvalidContact
with every error. `today`: the day no contact_date or invoice_date may be after (None: today's date
in Stockholm)."""
