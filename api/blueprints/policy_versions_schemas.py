"""Schemas of /v1/policy-versions: stored policy versions, their activation and its audit."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .query_schema import QuerySchema
from .text_field import Text, Token

DIGEST = r"^[0-9a-f]{64}$"
ACTIVE_ALIAS = "active"  # names the version in force wherever a digest is asked for
STATUSES = ("active", "candidate", "retired")


class PolicyVersionSchema(Schema):
    class Meta:
        ordered = True

    digest = fields.String(
        required=True,
        metadata={"description": "sha256 of the version's files: what verdicts name as `policy.version`"},
    )
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = fields.String(required=True)
    added_by = fields.String(
        required=True,
        metadata={
            "description": 'Who added it: an API key id ("anonymous" when the service runs without keys), '
            '"start" (the files on disk, at start) or the --actor of `python -m api.storage activate on-disk`'
        },
    )
    added_at = fields.DateTime(required=True)
    base = fields.String(
        allow_none=True, required=True, metadata={"description": "The version an overlay was laid on"}
    )
    overlay = fields.Raw(
        allow_none=True, required=True, metadata={"description": "The overlay it was made from"}
    )


class PolicyVersionListSchema(Schema):
    active = fields.String(allow_none=True, required=True, metadata={"description": "The version in force"})
    items = fields.List(fields.Nested(PolicyVersionSchema), required=True)


class PolicyLayerSchema(Schema):
    class Meta:
        ordered = True

    layer = fields.String(required=True, metadata={"example": "regional"})
    home_region = fields.String(allow_none=True, required=True)
    id = fields.String(required=True, metadata={"example": "region-25-2022-01-01"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, required=True)
    file = fields.String(required=True)
    digest = fields.String(required=True)


class CheckSchema(Schema):
    ok = fields.Boolean(
        required=True, metadata={"description": "Whether today's engine loads it with every check"}
    )
    summary = fields.String(required=True)


class PolicyVersionDetailSchema(PolicyVersionSchema):
    files = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    layers = fields.List(fields.Nested(PolicyLayerSchema), required=True)
    check = fields.Nested(CheckSchema, required=True)


class ActivationSchema(Schema):
    class Meta:
        unknown = RAISE

    note = Text(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "Why: the decision behind it", "example": "Regionstyrelsen 2026-11-28 § 12"},
    )


class PolicyAuditEntrySchema(Schema):
    class Meta:
        ordered = True

    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(("add", "activate", "shadow", "unshadow")))
    digest = fields.String(allow_none=True, required=True)
    previous = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "activate: the version in force before; shadow: the one it replaced in shadow"
        },
    )
    note = fields.String(required=True)


class PolicyAuditSchema(Schema):
    items = fields.List(fields.Nested(PolicyAuditEntrySchema), required=True)


class DecisionSourceSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    ref = Text(
        required=True,
        validate=validate.Length(1, 300),
        metadata={
            "description": "What an auditor reads",
            "example": "Region Norrbotten, regionstyrelsen § 12",
        },
    )
    url = Text(
        required=True,
        validate=[validate.Length(1, 2000), validate.URL(schemes={"http", "https"})],
        metadata={"description": "Where the decision can be read", "example": "https://www.norrbotten.se/"},
    )


BASE = r"^(active|[0-9a-f]{64})$"


class CandidateSchema(Schema):
    """Either `files` (a whole policy) or `overrides` on a `base` version (an overlay)."""

    class Meta:
        unknown = RAISE
        ordered = True

    files = fields.Dict(
        keys=Token(validate=validate.Length(1, 200)),
        values=fields.String(validate=validate.Length(max=1_000_000)),
        validate=validate.Length(1, 100),
        metadata={
            "description": "A whole policy: file name -> YAML text, as in rules/policy/ (sources.yaml, "
            "catalogue.yaml, national.yaml, eligibility.yaml, regions/<name>.yaml; no contracts/)"
        },
    )
    base = Token(
        validate=validate.Regexp(BASE, error="Expected `active` or a version's digest (64 hex digits)."),
        metadata={"description": "An overlay's base: `active` (the default) or a stored version's digest"},
    )
    overrides = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 200)),
        values=fields.Raw(allow_none=True),
        validate=validate.Length(1, 50),
        metadata={
            "description": "An overlay: dotted keys to values, the syntax of what-if scenarios "
            "(regions.<code>.digital_stop.valid_from | .enforcement, regions.<code>.referral_required_"
            "specialties, national.telephone_reimbursed, national.invoice_limit_months, "
            "national.digital_tariff_sek.<profession>)"
        },
    )
    source = fields.Nested(
        DecisionSourceSchema,
        metadata={
            "description": "An overlay's decision: added to sources.yaml, and cited by every value the "
            "overrides change (without one, those values are assumptions and verdicts resting on them "
            "are flagged ASSUMED_EFFECTIVE_DATE)"
        },
    )
    note = Text(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "Why: what the candidate is for", "example": "Stop as advisory from 2027"},
    )

    @validates_schema
    def _one_kind(self, data, **kwargs):
        if "files" in data:
            for key in ("base", "overrides", "source"):
                if key in data:
                    raise ValidationError("Send either `files` or an overlay (`base`, `overrides`).", key)
        elif "overrides" not in data:
            raise ValidationError(
                "Send `files` (a whole policy) or `overrides` on a `base` version.", "files"
            )


class DiffQuerySchema(QuerySchema):
    against = Token(
        load_default="active",
        validate=validate.Regexp(BASE, error="Expected `active` or a version's digest (64 hex digits)."),
        metadata={"description": "The version to compare with (the old side): `active` or a digest"},
    )


class ValueWithSourceSchema(Schema):
    class Meta:
        ordered = True

    value = fields.Raw(required=True)
    source = fields.Dict(required=True, metadata={"description": "{id, ref, url}"})
    assumption = fields.String(allow_none=True, required=True)


class ParameterChangeSchema(Schema):
    class Meta:
        ordered = True

    layer = fields.String(required=True)
    home_region = fields.String(allow_none=True, required=True)
    period = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, required=True)
    parameter = fields.String(required=True)
    old = fields.Nested(ValueWithSourceSchema, allow_none=True, required=True)
    new = fields.Nested(ValueWithSourceSchema, allow_none=True, required=True)


class PolicyDiffSchema(Schema):
    class Meta:
        ordered = True

    from_ = fields.String(
        required=True,
        data_key="from",
        metadata={"description": "The version compared with (`against`, the old side)"},
    )
    to = fields.String(required=True, metadata={"description": "The version compared (the new side)"})
    parameters = fields.List(
        fields.Nested(ParameterChangeSchema),
        required=True,
        metadata={
            "description": "Per period in both: each parameter whose value, source or assumption differs"
        },
    )
    periods = fields.Dict(
        required=True,
        metadata={
            "description": "added and removed (with their parameters), changed (dates): by layer, region, id"
        },
    )
    rules = fields.Dict(
        required=True,
        metadata={
            "description": "added, removed, moved (out of their relative order), changed (when, decision, "
            "amount, flags, legal_basis: old and new), by reason code"
        },
    )
    texts = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "Catalogue texts (reasons, flags, amounts, terms): section, code, key, old, new"
        },
    )
    sources = fields.Dict(required=True, metadata={"description": "sources.yaml: added, removed, changed"})
    identical = fields.Boolean(required=True, metadata={"description": "Whether nothing above differs"})
