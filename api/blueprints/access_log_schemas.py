"""Query and response schemas of GET /v1/access-log."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from rules.schema import AwareDateTime

from ..storage.decision_log import MAX_PAGE
from .query_schema import QuerySchema
from .text_field import Text


class AccessLogQuerySchema(QuerySchema):
    client = Text(validate=validate.Length(1, 64), metadata={"description": "id of the API key that read"})
    at_from = AwareDateTime(data_key="from", metadata={"description": "read at or after (inclusive)"})
    at_to = AwareDateTime(data_key="to", metadata={"description": "read at or before (inclusive)"})
    decision_id = Text(
        validate=validate.Length(1, 36),
        metadata={"description": "only the reads that returned this decision"},
    )
    cursor = Text(metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(
        load_default=100, validate=validate.Range(1, MAX_PAGE), metadata={"description": f"1-{MAX_PAGE}"}
    )

    @validates_schema
    def _period(self, data, **kwargs):
        if "at_from" in data and "at_to" in data and data["at_to"] < data["at_from"]:
            raise ValidationError("Must not be before from.", "to")


class ReadRecordSchema(Schema):
    class Meta:
        ordered = True

    seq = fields.Integer(required=True, metadata={"description": "the record's number, in the order written"})
    at = fields.DateTime(
        required=True, metadata={"description": "when the answer was recorded, just before it was sent"}
    )
    client = fields.String(
        required=True, metadata={"description": "id of the API key that read, or anonymous"}
    )
    method = fields.String(required=True, metadata={"example": "GET"})
    path = fields.String(required=True, metadata={"example": "/v1/decisions"})
    query = fields.String(
        required=True,
        metadata={
            "description": 'the query string as sent (`""` for none); for a readjudication its body\'s '
            "selection (home_region, contact_date_from, contact_date_to, limit) written as one",
            "example": "home_region=25&limit=100",
        },
    )
    decision_ids = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "the decisions the answer returned, in its order; none for an empty page or a 404"
        },
    )


class AccessLogPageSchema(Schema):
    items = fields.List(fields.Nested(ReadRecordSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
