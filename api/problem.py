"""RFC 9457 problem details: the one shape every error of this service takes."""

from http import HTTPStatus

import orjson
from flask import Response
from marshmallow import Schema, fields

PROBLEM_JSON = "application/problem+json"
# RFC 9110 names where Python's http.HTTPStatus still has the older ones.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class ProblemSchema(Schema):
    """An RFC 9457 problem. `errors` lists, per field, what is wrong with the input."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(required=True, metadata={"example": "Unprocessable Content"})
    status = fields.Integer(required=True, metadata={"example": 422})
    detail = fields.String(metadata={"example": "The contact is not valid: see errors."})
    instance = fields.String(metadata={"example": "/v1/verdicts"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "Per field (dotted path for nested fields), the messages saying what is wrong.",
            "example": {"home_region": ["Not a region code in use: '02' (01, 03-10, 12-14, 17-25)."]},
        },
    )


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict | None = None,
    instance: str | None = None,
    headers: dict | None = None,
    **extensions,
) -> Response:
    """A problem+json response for `status`; the title is the standard phrase of that status."""
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    body.update(extensions)
    response = Response(orjson.dumps(body), status=status, mimetype=PROBLEM_JSON)
    if headers:
        response.headers.update(headers)
    return response


class ProblemError(Exception):
    """Raise from a view to answer with a problem (api/errors.py turns it into the response)."""

    def __init__(self, status: int, detail: str, *, errors: dict | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
