"""The base of every query-parameter schema: an unknown parameter, or one given twice, is a 422
naming it.

webargs takes the first of repeated values and drops the rest without a word, so
`decision=pay&decision=no_pay` would answer only the pay decisions as if that were asked."""

from flask import request
from marshmallow import RAISE, Schema, ValidationError, validates_schema


class QuerySchema(Schema):
    class Meta:
        unknown = RAISE

    @validates_schema
    def _each_once(self, data, **kwargs):
        repeated = {key: ["Give this parameter once."] for key, values in request.args.lists() if values[1:]}
        if repeated:
            raise ValidationError(repeated)
