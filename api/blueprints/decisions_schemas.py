"""Query and response schemas of the decision log endpoints."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from rules.regions import REGIONS
from rules.schema import AwareDateTime, StrictDate
from rules.vocabulary import DECISIONS

from ..storage.decision_log import MAX_PAGE
from .query_schema import QuerySchema
from .text_field import Text, Token
from .verdicts_schemas import IssuedVerdictSchema


class DecisionQuerySchema(QuerySchema):
    contact_id = Text(validate=validate.Length(1, 64))
    home_region = fields.String(validate=validate.OneOf(tuple(REGIONS)))
    reason = Text(validate=validate.Regexp(r"^[A-Z][A-Z0-9_]{0,63}$"), metadata={"example": "DIGITAL_TARIFF"})
    decision = fields.String(validate=validate.OneOf(DECISIONS))
    evaluated_from = AwareDateTime(metadata={"description": "evaluated_at at or after (inclusive)"})
    evaluated_to = AwareDateTime(metadata={"description": "evaluated_at at or before (inclusive)"})
    contact_date_from = StrictDate(metadata={"description": "contact_date on or after (inclusive)"})
    contact_date_to = StrictDate(metadata={"description": "contact_date on or before (inclusive)"})
    cursor = Token(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(
        load_default=100, validate=validate.Range(1, MAX_PAGE), metadata={"description": f"1-{MAX_PAGE}"}
    )

    @validates_schema
    def _ranges(self, data, **kwargs):
        for low, high in (("evaluated_from", "evaluated_to"), ("contact_date_from", "contact_date_to")):
            if low in data and high in data and data[high] < data[low]:
                raise ValidationError(f"Must not be before {low}.", high)


class FeedQuerySchema(QuerySchema):
    after = Token(
        validate=validate.Length(1, 100),
        metadata={"description": "`next` of the previous page; without it, the feed starts at the beginning"},
    )
    limit = fields.Integer(
        load_default=100, validate=validate.Range(1, MAX_PAGE), metadata={"description": f"1-{MAX_PAGE}"}
    )


class DecisionLayerSchema(Schema):
    id = fields.String(required=True)
    valid_from = fields.String(required=True)


class PolicyUsedSchema(Schema):
    digest = fields.String(required=True)
    layers = fields.List(fields.Nested(DecisionLayerSchema), required=True)
    version = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "The policy version decided with (GET /v1/policy-versions/{digest}); null "
            "for a decision stored before versions were kept (migration 0009)"
        },
    )
    contract_book = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "Digest of the contract registry's state decided with; null for a decision "
            "stored before migration 0009"
        },
    )


class DecisionRecordSchema(Schema):
    class Meta:
        ordered = True

    decision_id = fields.UUID(required=True)
    contact_id = fields.String(required=True)
    home_region = fields.String(required=True)
    contact_date = fields.Date(required=True)
    decision = fields.String(required=True)
    reason = fields.String(required=True)
    evaluated_at = fields.DateTime(required=True)
    client = fields.String(
        required=True, metadata={"description": "id of the API key that asked, or anonymous"}
    )
    supersedes = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "decision_id of the decision before this one in its chain: the same "
            "client's, for the same contact_id and home_region"
        },
    )
    policy = fields.Nested(PolicyUsedSchema, required=True)
    contact = fields.Dict(
        required=True,
        metadata={"description": "The contact exactly as received, patient age reduced to its age group"},
    )
    verdict = fields.Nested(
        IssuedVerdictSchema, required=True, metadata={"description": "The verdict as it was answered"}
    )


class DecisionPageSchema(Schema):
    items = fields.List(fields.Nested(DecisionRecordSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class FeedPageSchema(Schema):
    items = fields.List(fields.Nested(DecisionRecordSchema), required=True)
    next = fields.String(
        required=True,
        metadata={"description": "Pass as `after` for the decisions committed since; given on every page"},
    )


class ReplayDifferenceSchema(Schema):
    class Meta:
        ordered = True

    path = fields.String(
        required=True,
        metadata={
            "description": "Where in the verdict: members joined by `.`, list items as `[i]`",
            "example": "amount_sek",
        },
    )
    original = fields.Raw(
        metadata={"description": "The stored value; absent when the stored verdict has no such member"}
    )
    replayed = fields.Raw(
        metadata={"description": "The value now; absent when the replayed verdict has no such member"}
    )


class ReplaySchema(Schema):
    class Meta:
        ordered = True

    identical = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether the replayed verdict is the stored one, member for member "
            "(decision_id, evaluated_at and supersedes aside)"
        },
    )
    original = fields.Nested(
        IssuedVerdictSchema, required=True, metadata={"description": "The verdict as it was answered"}
    )
    replayed = fields.Dict(
        required=True,
        metadata={
            "description": "The verdict decided now under the same policy version and contract book, "
            "as of the day of the decision (without decision_id, evaluated_at and supersedes: nothing is "
            'issued or stored); `{"rejected": true, "errors": {...}}` if the stored contact is refused now'
        },
    )
    differences = fields.List(
        fields.Nested(ReplayDifferenceSchema),
        required=True,
        metadata={
            "description": "Every member that differs, in the order of the stored verdict; empty "
            "when identical"
        },
    )
