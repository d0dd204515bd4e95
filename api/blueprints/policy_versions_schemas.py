"""Schemas of /v1/policy-versions: stored policy versions, their activation and its audit."""

from marshmallow import RAISE, Schema, fields, validate

from .text_field import Text

DIGEST = r"^[0-9a-f]{64}$"
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
        required=True, metadata={"description": 'API key id, or "start" (the files on disk)'}
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
