"""Request and response schemas of the verdict endpoints, for the OpenAPI document.

The contact itself is ContactSchema (rules/schema.py), generated from the declaration of the contact
that the engine's validator is derived from too; the views validate with that validator directly.
"""

from marshmallow import RAISE, Schema, fields, validate

from rules.schema import ContactSchema, VerdictSchema

from ..config import DEFAULT_BATCH_MAX_LINES
from ..key_regions import REGION_ERROR


class IssuedVerdictSchema(VerdictSchema):
    """A verdict as the service issues it: the contract's Verdict, plus the decision it replaces."""

    class Meta:
        ordered = True

    supersedes = fields.UUID(
        metadata={
            "description": "Present when this decision replaces the newest earlier decision of the same "
            "client for the same contact_id and home region (whose content differs): that decision's "
            "decision_id. Never another client's decision."
        }
    )


def contact_line() -> fields.Raw:
    """A line of a list of contacts that is decided line by line: documented as a Contact, but any
    JSON value is taken and, when it is not a valid contact, listed under `rejected` instead of
    failing the request (SPEC section 6). The document says so, so that what it allows and what the
    server accepts agree."""
    return fields.Raw(
        metadata={
            "anyOf": [
                {"$ref": "#/components/schemas/Contact"},
                {"description": "Any other JSON value: not decided, listed under `rejected`"},
            ]
        }
    )


class BatchRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    contacts = fields.List(
        contact_line(),
        required=True,
        validate=validate.Length(max=DEFAULT_BATCH_MAX_LINES),
        metadata={
            "description": f"Up to {DEFAULT_BATCH_MAX_LINES:,} invoice lines (UTOMLANS_BATCH_MAX_LINES). "
            "A line that is not a valid contact (even one that is not an object) is listed under "
            "`rejected`; it never fails the batch."
        },
    )


class RejectedLineSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "0-based position in `contacts`"})
    contact_id = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The line's contact_id when it had a string one; null when that holds an "
            "identity number (refused, and not said back)"
        },
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={
            "description": f"Per field, what is wrong; under `{REGION_ERROR}` instead: the line is valid but "
            "neither its home_region nor its care_region is one of the API key's regions"
        },
    )


class ReasonTotalSchema(Schema):
    count = fields.Integer(required=True)
    amount_sek = fields.String(required=True, metadata={"example": "450.00"})


class BatchSummarySchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Lines decided"})
    pay = fields.Integer(required=True)
    no_pay = fields.Integer(required=True)
    rejected = fields.Integer(
        required=True, metadata={"description": "Lines refused: invalid, or outside the API key's regions"}
    )
    amount_sek_total = fields.String(required=True, metadata={"description": "Sum of amounts paid"})
    by_reason = fields.Dict(keys=fields.String(), values=fields.Nested(ReasonTotalSchema), required=True)


class BatchResponseSchema(Schema):
    class Meta:
        ordered = True

    verdicts = fields.List(fields.Nested(IssuedVerdictSchema), required=True)
    rejected = fields.List(fields.Nested(RejectedLineSchema), required=True)
    summary = fields.Nested(BatchSummarySchema, required=True)


__all__ = ["BatchRequestSchema", "BatchResponseSchema", "ContactSchema", "IssuedVerdictSchema"]
