"""Schemas of /v1/shadow: a stored version decided beside the one in force, and what it has seen."""

from marshmallow import RAISE, Schema, fields, validate

from .policy_versions_schemas import DIGEST
from .query_schema import QuerySchema
from .simulations_schemas import ChangeSchema
from .text_field import Text, Token

NOTE = "Why: what the shadow is meant to show"


class ShadowRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    digest = Token(  # not a String: its pattern's `$` lets a digest with a newline after it through
        required=True,
        validate=validate.Regexp(DIGEST, error="A version's digest: 64 lowercase hexadecimal digits."),
        metadata={
            "description": "A stored version other than the one in force (GET /v1/policy-versions)",
            "pattern": DIGEST,
        },
    )
    note = Text(required=True, validate=validate.Length(1, 2000), metadata={"description": NOTE})


class ShadowEndQuerySchema(QuerySchema):
    note = Text(
        load_default="",
        validate=validate.Length(0, 2000),
        metadata={"description": "Why it ends (kept in the audit)"},
    )


class ShadowSchema(Schema):
    class Meta:
        ordered = True

    digest = fields.String(required=True, metadata={"description": "The version in shadow"})
    since = fields.DateTime(required=True, metadata={"description": "When it was put in shadow"})
    verdicts = fields.Integer(
        required=True, metadata={"description": "Decisions stored since, also decided under it"}
    )
    disagreements = fields.Integer(
        required=True,
        metadata={"description": "Of those, the ones it decided otherwise (decision, reason or amount)"},
    )
    changed = fields.List(
        fields.Nested(ChangeSchema),
        required=True,
        metadata={
            "description": "The disagreements by `from` (the reason answered) and `to` (the shadow's reason; "
            "INVALID_CONTACT: it would have refused the contact, a 422), with `amount_sek` what the shadow "
            "would have paid more (signed; negative: less); largest money change first"
        },
    )
