"""The contract with billing systems (SPEC section 6) as marshmallow schemas.

These schemas define the contract and document it in OpenAPI. The hot path validates with
rules/validation.py instead; tests/test_validation_parity.py keeps the two in agreement.
"""

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .calendar import parse_iso_date
from .money import parse_sek
from .regions import REGIONS
from .vocabulary import (
    CARE_CATEGORIES,
    DECISIONS,
    MODES,
    PROFESSIONS,
    REFERRALS,
    REMOTE_MODES,
    SETTINGS,
    SEXES,
)

MONEY_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"


class StrictDate(fields.Date):
    """YYYY-MM-DD only."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_iso_date(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class StrictBoolean(fields.Boolean):
    """true or false only: no "yes", 1 or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise ValidationError("Not a valid boolean: use true or false.")


class Money(fields.String):
    """A non-negative amount in SEK with at most 2 decimals: a decimal string, or a JSON number."""

    def __init__(self, **kwargs):
        metadata = {"pattern": MONEY_PATTERN, "example": "450.00"}
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


SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _slug(value):
    # fullmatch: validate.Regexp uses re.match, whose `$` also accepts a trailing newline.
    if not SLUG.fullmatch(value):
        raise ValidationError("Not a valid slug: lower-case letters, digits and _, e.g. primary_care.")


class Slug(fields.String):
    def __init__(self, **kwargs):
        super().__init__(
            validate=_slug,
            metadata={"pattern": f"^{SLUG.pattern}$", "example": "primary_care"},
            **kwargs,
        )


def _strict_int(value):
    if isinstance(value, bool):
        raise ValidationError("Not a valid integer.")


class DigitalRequirementsSchema(Schema):
    class Meta:
        unknown = RAISE

    qualified_care = StrictBoolean(required=True)
    strong_authentication = StrictBoolean(required=True)
    journaled = StrictBoolean(required=True)
    triaged = StrictBoolean(required=True)


class PatientSchema(Schema):
    """Statistics only: never used in a decision."""

    class Meta:
        unknown = RAISE

    age = fields.Integer(strict=True, validate=[_strict_int, validate.Range(0, 130)])
    sex = fields.String(validate=validate.OneOf(SEXES))


class ContactSchema(Schema):
    """One invoice line (vårdkontakt)."""

    class Meta:
        unknown = RAISE
        ordered = True

    contact_id = fields.String(required=True, validate=validate.Length(1, 64))
    contact_date = StrictDate(required=True)
    home_region = RegionCode(required=True)
    care_region = RegionCode(required=True)
    provider_id = fields.String(
        required=True, validate=validate.Length(1, 64), metadata={"description": "HSA-id of the care unit"}
    )
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    care_category = fields.String(required=True, validate=validate.OneOf(CARE_CATEGORIES))
    setting = fields.String(validate=validate.OneOf(SETTINGS), metadata={"default": "outpatient"})
    profession = fields.String(required=True, validate=validate.OneOf(PROFESSIONS))
    specialty = Slug()
    referral = fields.String(validate=validate.OneOf(REFERRALS), metadata={"default": "none"})
    prior_approval = StrictBoolean(metadata={"default": False})
    digital_requirements = fields.Nested(
        DigitalRequirementsSchema,
        metadata={"description": "Required for video, chat and telephone"},
    )
    claimed_amount_sek = Money(required=True)
    patient_fee_sek = Money(metadata={"default": "0.00", "example": "0.00"})
    invoice_date = StrictDate(metadata={"description": "Not before contact_date"})
    patient = fields.Nested(PatientSchema)
    needs_assessment = StrictBoolean(
        metadata={"description": "A documented assessment of need and suitability (Ds 2023:27)"}
    )

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _cross_field(self, data, original_data, **kwargs):
        errors = {}
        if data.get("mode") in REMOTE_MODES and "digital_requirements" not in original_data:
            errors["digital_requirements"] = ["Required for video, chat and telephone."]
        invoice, contact = data.get("invoice_date"), data.get("contact_date")
        if invoice is not None and contact is not None and invoice < contact:
            errors["invoice_date"] = ["Must not be before contact_date."]
        if errors:
            raise ValidationError(errors)


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
