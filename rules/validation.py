"""Fast validation of a contact in the JSON shape of SPEC section 6.

The contract is defined by the marshmallow schema in rules/schema.py; this module is the hot-path
twin of it (marshmallow costs ~10x more per line). tests/test_validation_parity.py proves both
accept and reject the same inputs, on the same fields, over a shared corpus.
"""

import re
from itertools import product

from .calendar import parse_iso_date
from .contact import Contact, DigitalRequirements, Patient
from .errors import InvalidContact
from .money import parse_sek
from .regions import REGIONS
from .vocabulary import (
    CARE_CATEGORIES,
    DIGITAL_REQUIREMENTS,
    MODES,
    PROFESSIONS,
    REFERRALS,
    REMOTE_MODES,
    SETTINGS,
    SEXES,
)

MISSING = "Missing data for required field."
NULL = "Field may not be null."
UNKNOWN = "Unknown field."
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _text(value):
    if not isinstance(value, str):
        raise ValueError("Not a valid string.")
    if not 1 <= len(value) <= 64:
        raise ValueError("Length must be between 1 and 64.")
    return value


def _region(value):
    if not isinstance(value, str):  # first: a list or object is not hashable
        raise ValueError('Not a valid string: region codes are strings such as "25".')
    if value in REGIONS:
        return value
    raise ValueError(f"Not a region code in use: {value!r} (01, 03-10, 12-14, 17-25).")


def _choice(options):
    allowed = frozenset(options)
    message = "Must be one of: " + ", ".join(options) + "."

    def check(value):
        if isinstance(value, str) and value in allowed:
            return value
        raise ValueError(message)

    return check


def _bool(value):
    if value is True or value is False:
        return value
    raise ValueError("Not a valid boolean: use true or false.")


def _slug(value):
    if isinstance(value, str) and _SLUG.fullmatch(value):
        return value
    raise ValueError("Not a valid slug: lower-case letters, digits and _, e.g. primary_care.")


def _memo(parse, limit: int = 20_000):
    """Memoise a parser of text: in a file, dates and amounts repeat from line to line, and parsing
    them dominated validation. Only exact str is cached (hashable, immutable), failures never are,
    and the cache stops growing at `limit` entries so memory stays bounded."""
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

    return check


_date = _memo(parse_iso_date)
_sek = _memo(parse_sek)


def _nested(name, fields, required, build):
    """An object field whose own keys are validated; errors come back as name.key."""

    def check(value, errors):
        if not isinstance(value, dict):
            errors[name] = ["Not a valid object."]
            return None
        out = {}
        failed = False
        for key, raw in value.items():
            checker = fields.get(key)
            if checker is None:
                errors[f"{name}.{key}"] = [UNKNOWN]
                failed = True
            elif raw is None:
                errors[f"{name}.{key}"] = [NULL]
                failed = True
            else:
                try:
                    out[key] = checker(raw)
                except ValueError as exc:
                    errors[f"{name}.{key}"] = [str(exc)]
                    failed = True
        for key in required:
            if key not in value:
                errors[f"{name}.{key}"] = [MISSING]
                failed = True
        return None if failed else build(**out)

    return check


def _age(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Not a valid integer.")
    if not 0 <= value <= 130:
        raise ValueError("Must be greater than or equal to 0 and less than or equal to 130.")
    return value


_digital = _nested(
    "digital_requirements",
    dict.fromkeys(DIGITAL_REQUIREMENTS, _bool),
    DIGITAL_REQUIREMENTS,
    DigitalRequirements,
)
_patient = _nested("patient", {"age": _age, "sex": _choice(SEXES)}, (), Patient)

# Fast paths for the two objects: the same few values recur on nearly every line, and the built
# objects are immutable, so a valid object is looked up instead of checked key by key. Types are
# tested exactly (1 == True and 34.0 == 34 would otherwise hit the wrong entry); anything else
# takes the full check above, with its messages.
_REQUIREMENT_SETS = {bits: DigitalRequirements(*bits) for bits in product((True, False), repeat=4)}
_ABSENT = object()
_PATIENTS: dict = {}


def _digital_requirements(value, errors):
    if type(value) is dict and len(value) == 4:
        bits = (
            value.get("qualified_care"),
            value.get("strong_authentication"),
            value.get("journaled"),
            value.get("triaged"),
        )
        if (
            type(bits[0]) is bool
            and type(bits[1]) is bool
            and type(bits[2]) is bool
            and type(bits[3]) is bool
        ):
            return _REQUIREMENT_SETS[bits]
    return _digital(value, errors)


def _patient_object(value, errors):
    if type(value) is dict:
        age, sex = value.get("age", _ABSENT), value.get("sex", _ABSENT)
        if (
            (type(age) is int or age is _ABSENT)
            and (type(sex) is str or sex is _ABSENT)
            and len(value) == (age is not _ABSENT) + (sex is not _ABSENT)
        ):
            key = (age, sex)
            found = _PATIENTS.get(key)
            if found is None:
                found = _patient(value, errors)
                if found is not None and len(_PATIENTS) < 4096:
                    _PATIENTS[key] = found
            return found
    return _patient(value, errors)


# field -> (required, checker, attribute on Contact)
_SCALARS = {
    "contact_id": (True, _text, "contact_id"),
    "contact_date": (True, _date, "contact_date"),
    "home_region": (True, _region, "home_region"),
    "care_region": (True, _region, "care_region"),
    "provider_id": (True, _text, "provider_id"),
    "mode": (True, _choice(MODES), "mode"),
    "care_category": (True, _choice(CARE_CATEGORIES), "care_category"),
    "setting": (False, _choice(SETTINGS), "setting"),
    "profession": (True, _choice(PROFESSIONS), "profession"),
    "specialty": (False, _slug, "specialty"),
    "referral": (False, _choice(REFERRALS), "referral"),
    "prior_approval": (False, _bool, "prior_approval"),
    "claimed_amount_sek": (True, _sek, "claimed_ore"),
    "patient_fee_sek": (False, _sek, "patient_fee_ore"),
    "invoice_date": (False, _date, "invoice_date"),
    "needs_assessment": (False, _bool, "needs_assessment"),
}
_OBJECTS = {"digital_requirements": _digital_requirements, "patient": _patient_object}
FIELDS = frozenset(_SCALARS) | frozenset(_OBJECTS)
REQUIRED = tuple(name for name, (required, _, _) in _SCALARS.items() if required)


def parse_contact(data) -> Contact:
    """Validate one contact dict and return a Contact, or raise InvalidContact with every error."""
    if type(data) is dict:
        contact = _well_formed(data)
        if contact is not None:
            return contact
    return _checked(data)


_MODES, _CATEGORIES, _PROFESSIONS = frozenset(MODES), frozenset(CARE_CATEGORIES), frozenset(PROFESSIONS)
_SETTINGS, _REFERRALS = frozenset(SETTINGS), frozenset(REFERRALS)


def _well_formed(data) -> Contact | None:
    """The common case, checked straight through: a contact that passes returns a Contact; any
    doubt returns None and the full check below decides, with its messages. It accepts nothing the
    full check rejects (tests/test_validation_fast_paths.py compares both on the shared corpus)."""
    if not data.keys() <= FIELDS:
        return None
    get = data.get
    contact_id, provider_id = get("contact_id"), get("provider_id")
    home, care = get("home_region"), get("care_region")
    mode, category, profession = get("mode"), get("care_category"), get("profession")
    setting, referral = get("setting", "outpatient"), get("referral", "none")
    prior, needs = get("prior_approval", False), get("needs_assessment", _ABSENT)
    if not (
        type(contact_id) is str
        and 0 < len(contact_id) <= 64
        and type(provider_id) is str
        and 0 < len(provider_id) <= 64
        and type(home) is str
        and home in REGIONS
        and type(care) is str
        and care in REGIONS
        and type(mode) is str
        and mode in _MODES
        and type(category) is str
        and category in _CATEGORIES
        and type(profession) is str
        and profession in _PROFESSIONS
        and type(setting) is str
        and setting in _SETTINGS
        and type(referral) is str
        and referral in _REFERRALS
        and type(prior) is bool
        and (needs is _ABSENT or type(needs) is bool)
    ):
        return None
    day, claimed = get("contact_date"), get("claimed_amount_sek")
    specialty, fee, invoice = get("specialty", _ABSENT), get("patient_fee_sek", _ABSENT), get("invoice_date")
    requirements, patient = get("digital_requirements", _ABSENT), get("patient", _ABSENT)
    if day is None or claimed is None or invoice is None and "invoice_date" in data:
        return None
    scratch: dict = {}
    try:
        day, claimed = _date(day), _sek(claimed)
        specialty = None if specialty is _ABSENT else _slug(specialty)
        fee = 0 if fee is _ABSENT else _sek(fee)
        invoice = None if invoice is None else _date(invoice)
    except ValueError:
        return None
    if requirements is _ABSENT:
        if mode in REMOTE_MODES:
            return None
        requirements = None
    elif requirements is None or (requirements := _digital_requirements(requirements, scratch)) is None:
        return None
    if patient is _ABSENT:
        patient = None
    elif patient is None or (patient := _patient_object(patient, scratch)) is None:
        return None
    if invoice is not None and invoice < day:
        return None
    return Contact(
        contact_id, day, home, care, provider_id, mode, category, profession, claimed, setting,
        specialty, referral, prior, requirements, fee, invoice, patient,
        None if needs is _ABSENT else needs,
    )


def _checked(data) -> Contact:
    """Every field checked, every error collected."""
    if not isinstance(data, dict):
        raise InvalidContact({"_schema": ["Invalid input type: expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    values = {}
    for key, raw in data.items():
        spec = _SCALARS.get(key)
        if spec is not None:
            if raw is None:
                errors[key] = [NULL]
                continue
            try:
                values[spec[2]] = spec[1](raw)
            except ValueError as exc:
                errors[key] = [str(exc)]
        elif key in _OBJECTS:
            if raw is None:
                errors[key] = [NULL]
                continue
            values[key] = _OBJECTS[key](raw, errors)
        else:
            errors[key] = [UNKNOWN]
    for key in REQUIRED:
        if key not in data:
            errors[key] = [MISSING]
    _cross_field(data, values, errors)
    if errors:
        raise InvalidContact(errors)
    return Contact(**values)


def _cross_field(data, values, errors) -> None:
    if values.get("mode") in REMOTE_MODES and "digital_requirements" not in data:
        errors["digital_requirements"] = [MISSING + " It is required for video, chat and telephone."]
    invoice, contact = values.get("invoice_date"), values.get("contact_date")
    if invoice is not None and contact is not None and invoice < contact:
        errors["invoice_date"] = ["Must not be before contact_date."]
