"""Schemas of POST /v1/policy-versions/{digest}/impact: which stored decisions, and what changes."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from rules.schema import AwareDateTime, RegionCode, StrictDate

from .simulations_schemas import ChangeSchema, RegionDeltaSchema


class ImpactRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    evaluated_from = AwareDateTime(metadata={"description": "Decisions made at or after (inclusive)"})
    evaluated_to = AwareDateTime(metadata={"description": "Decisions made at or before (inclusive)"})
    contact_date_from = StrictDate(metadata={"description": "contact_date on or after (inclusive)"})
    contact_date_to = StrictDate(metadata={"description": "contact_date on or before (inclusive)"})
    home_region = RegionCode()
    format = fields.String(
        validate=validate.OneOf(["json", "html"]),
        metadata={"description": "html: the simulation report's page (also with Accept: text/html)"},
    )

    @validates_schema
    def _ranges(self, data, **kwargs):
        for low, high in (("evaluated_from", "evaluated_to"), ("contact_date_from", "contact_date_to")):
            if low in data and high in data and data[high] < data[low]:
                raise ValidationError(f"Must not be before {low}.", high)


class ImpactRejectedItemSchema(Schema):
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)
    count = fields.Integer(required=True, metadata={"description": "Decisions refused with these errors"})


class ImpactRejectedSchema(Schema):
    count = fields.Integer(required=True)
    items = fields.List(fields.Nested(ImpactRejectedItemSchema), required=True)


def _breakdown(what: str):
    return fields.Dict(
        keys=fields.String(),
        values=fields.Nested(RegionDeltaSchema),
        required=True,
        metadata={"description": f"Per {what}: decisions, changed, money before, after and the difference"},
    )


class ImpactResultSchema(Schema):
    class Meta:
        ordered = True

    digest = fields.String(required=True, metadata={"description": "The version decided under"})
    decisions = fields.Integer(
        required=True, metadata={"description": "Contacts re-decided: the newest selected decision of each"}
    )
    changed_decisions = fields.Integer(
        required=True, metadata={"description": "Of those, how many get another decision, reason or amount"}
    )
    changed = fields.List(
        fields.Nested(ChangeSchema),
        required=True,
        metadata={"description": "The changed verdicts by (reason as decided, reason under the version)"},
    )
    amount_before_sek = fields.String(required=True, metadata={"description": "Paid as decided"})
    amount_after_sek = fields.String(required=True, metadata={"description": "Paid under the version"})
    amount_delta_sek = fields.String(required=True, metadata={"example": "+27500.00"})
    by_home_region = _breakdown("home region")
    by_age_group = _breakdown("age group (SPEC section 8)")
    by_sex = _breakdown("sex")
    by_month = _breakdown("month of contact_date")
    rejected = fields.Nested(
        ImpactRejectedSchema,
        required=True,
        metadata={"description": "Stored contacts the version cannot decide (not counted above)"},
    )
    without_contract_book = fields.Integer(
        required=True,
        metadata={
            "description": "Decisions stored before migration 0009, which do not name the contracts they "
            "were decided with: decided with the contract registry as it is now"
        },
    )
