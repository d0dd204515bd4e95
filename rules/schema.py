"""The contract with billing systems (SPEC section 6) as marshmallow schemas, for the OpenAPI document.

ContactSchema and its nested schemas are generated from the declaration of the contact
(rules/contact_fields.py) and load through the engine's validator: what is documented is what runs.
The field classes below serve the service's other schemas.
"""

from collections.abc import Callable
from functools import cache

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .calendar import DATE_NOTE, DATE_TIME_NOTE, check_bounds, parse_iso_date
from .contact_fields import CONTACT, DIGITAL_REQUIREMENTS_OBJECT, PATIENT_OBJECT
from .errors import InvalidContact
from .field_kinds import Field, ObjectKind
from .field_kinds import Money as MoneyKind
from .identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from .money import parse_sek
from .regions import REGIONS
from .text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from .validation import object_parser
from .vocabulary import DECISIONS


def noted(metadata: dict | None, note: str) -> dict:
    """The field's metadata with `note` after its description."""
    metadata = dict(metadata or {})
    notes = (metadata.get("description", ""), note)
    metadata["description"] = " ".join(text.rstrip(".") + "." for text in notes if text)
    return metadata


class StrictDate(fields.Date):
    """YYYY-MM-DD only, within the bounds of rules/calendar.py (which the description states)."""

    def __init__(self, **kwargs):
        super().__init__(metadata=noted(kwargs.pop("metadata", None), DATE_NOTE), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_iso_date(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with a time zone (a Z or an offset): a naive time would be ambiguous. Its date, as
    written, within the bounds of rules/calendar.py."""

    def __init__(self, **kwargs):
        super().__init__(metadata=noted(kwargs.pop("metadata", None), DATE_TIME_NOTE), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            check_bounds(moment.date())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return moment


class StrictBoolean(fields.Boolean):
    """true or false only: no "yes", 1 or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise ValidationError("Not a valid boolean: use true or false.")


class Money(fields.Raw):
    """A non-negative amount in SEK: a decimal string, or a JSON number as written (at most 2
    decimals, no exponent; rules/money.py). Documented as the contact's amounts are."""

    def __init__(self, **kwargs):
        kind = MoneyKind()
        metadata = {**kind.json_schema(), "description": kind.note, "example": "450.00"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_sek(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class RegionCode(fields.String):
    def __init__(self, **kwargs):
        super().__init__(
            validate=validate.OneOf(tuple(REGIONS)),
            metadata={"description": "Region code (länskod)", "example": "25"},
            **kwargs,
        )


def no_control_characters(value) -> None:
    """The contact's rule for text (rules/text.py) as a marshmallow validator, for other schemas."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTERS_MESSAGE)


def no_identity_numbers(value) -> None:
    """The contact's rule on identity numbers (rules/identity_numbers.py) as a marshmallow
    validator, for other schemas."""
    if isinstance(value, str) and holds_identity_number(value):
        raise ValidationError(IDENTITY_NUMBER_MESSAGE)


class DeclaredSchema(Schema):
    """A schema generated from a declared object (rules/field_kinds.py): its fields document the
    object in OpenAPI, and loading it runs the engine's validator, so both give the same answer.
    For reading requests only: its fields do not dump a built object."""

    class Meta:
        unknown = RAISE

    _parse: Callable[[object], object]  # the engine's validator of the object (schema_for)

    def load(self, data, *, many=None, partial=None, unknown=None):
        """The built object (a Contact for ContactSchema), or ValidationError with the engine's
        errors. `partial` and `unknown` cannot loosen the contract: they are ignored."""
        if not (self.many if many is None else many):
            try:
                return self._parse(data)
            except InvalidContact as exc:
                raise ValidationError(exc.errors) from None
        if not isinstance(data, list):
            raise ValidationError({"_schema": ["Invalid input type: expected a JSON array."]})
        loaded, errors = [], {}
        for index, item in enumerate(data):
            try:
                loaded.append(self._parse(item))
            except InvalidContact as exc:
                errors[index] = exc.errors
        if errors:
            raise ValidationError(errors, valid_data=loaded)
        return loaded

    def validate(self, data, *, many=None, partial=None) -> dict:
        try:
            self.load(data, many=many)
        except ValidationError as exc:
            return exc.messages
        return {}


@cache
def schema_for(kind: ObjectKind) -> type[DeclaredSchema]:
    """The marshmallow schema of a declared object, named for OpenAPI after the object."""
    applied = kind.defaults()
    attributes = {field.name: _documented(kind, field, applied) for field in kind.fields}
    attributes["_parse"] = staticmethod(object_parser(kind))
    return type(f"{kind.name}Schema", (DeclaredSchema,), attributes)


def _documented(kind: ObjectKind, field: Field, applied: dict) -> fields.Field:
    # An object's description goes on the field that holds it: apispec drops additionalProperties
    # from a schema that has a description of its own.
    about_kind = field.kind.description if isinstance(field.kind, ObjectKind) else field.kind.note
    notes = [field.description, about_kind] + [r.description for r in kind.rules if r.field == field.name]
    metadata = {}
    if any(notes):
        metadata["description"] = " ".join(note.rstrip(".") + "." for note in notes if note)
    if field.example is not None:
        metadata["example"] = field.example
    if isinstance(field.kind, ObjectKind):
        return fields.Nested(schema_for(field.kind), required=field.required, metadata=metadata)
    if applied.get(field.name) is not None:
        metadata["default"] = field.kind.wire(applied[field.name])
    # Raw: marshmallow checks nothing itself, the kind's check does (DeclaredSchema.load).
    return fields.Raw(required=field.required, metadata={**field.kind.json_schema(), **metadata})


DigitalRequirementsSchema = schema_for(DIGITAL_REQUIREMENTS_OBJECT)
PatientSchema = schema_for(PATIENT_OBJECT)
ContactSchema = schema_for(CONTACT)


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as {"digital_requirements.triaged": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, list):
        out[prefix or "_schema"] = [str(m) for m in messages]
        return out
    for key, value in messages.items():
        # A nested object that is not an object at all: report it on the field itself.
        path = prefix if key == "_schema" and prefix else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten_errors(value, path))
        else:
            out.setdefault(path, []).extend(str(m) for m in value)
    return out


class TextSchema(Schema):
    sv = fields.String(required=True)
    en = fields.String(required=True)


class LegalRefSchema(Schema):
    ref = fields.String(required=True)
    url = fields.String(allow_none=True, required=True)


class TraceStepSchema(Schema):
    rule = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("applied", "not_applicable")))


class LayerRefSchema(Schema):
    id = fields.String(required=True)
    valid_from = fields.Date(required=True)


class PolicyRefSchema(Schema):
    home_region = fields.String(required=True)
    layers = fields.List(fields.Nested(LayerRefSchema), required=True)
    digest = fields.String(required=True, metadata={"description": "sha256 of the policy content used"})
    version = fields.String(
        metadata={
            "description": "The stored policy version decided with (GET /v1/policy-versions/{digest}); "
            "absent in simulations of scenarios"
        }
    )


class VerdictSchema(Schema):
    class Meta:
        ordered = True

    decision_id = fields.UUID(required=True)
    contact_id = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    reason = fields.String(required=True)
    amount_sek = fields.String(required=True, metadata={"example": "500.00"})
    cap_sek = fields.String(allow_none=True, required=True)
    explanation = fields.Nested(TextSchema, required=True)
    legal_basis = fields.List(fields.Nested(LegalRefSchema), required=True)
    flags = fields.List(fields.String(), required=True)
    trace = fields.List(fields.Nested(TraceStepSchema), required=True)
    policy = fields.Nested(PolicyRefSchema, required=True)
    evaluated_at = fields.DateTime(required=True)
