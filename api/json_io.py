"""Read a JSON request body once, as the engine reads JSON, and answer JSON fast (orjson).

Flask's request.get_json() hides why a body was refused and makes floats of numbers, losing how an
amount was written; here a wrong content type is a 415, a body over MAX_CONTENT_LENGTH a 413 (with
Content-Length or chunked) and malformed JSON a 400, each with a precise detail, and a number keeps
its text (rules/json_numbers.py).
"""

import orjson
from flask import Response, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

from rules.json_numbers import as_float, loads
from rules.schema import flatten_errors

from .problem import ProblemError


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def read_json():
    """The parsed body of the current request. Raises 415, 413 or 400. The body is read once and
    let go (not cached): a batch's can be large."""
    if not _is_json(request.mimetype):
        shown = request.mimetype or "none"
        raise UnsupportedMediaType(f"Send the body as application/json (Content-Type was {shown}).")
    raw = _body()
    if not raw:
        raise BadRequest("The request body is empty: send a JSON object.")
    try:
        text = raw.decode()  # UTF-8 only: UnicodeDecodeError is a ValueError
        del raw  # the text replaces the body, not beside it: a 100,000-line batch's is ~40 MB
        return loads(text)
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None


def read_body(schema: Schema, invalid: str) -> dict:
    """The body read as read_json() reads it (415, 413, 400), loaded with `schema`: 422 with the
    errors per field and `invalid` as its detail."""
    try:
        return schema.load(read_json())
    except ValidationError as exc:
        raise ProblemError(422, invalid, errors=flatten_errors(exc.messages)) from None


def _body() -> bytes:
    """The whole body; 413 when it is over MAX_CONTENT_LENGTH, 400 when it is shorter than its
    Content-Length.

    werkzeug refuses a Content-Length over the limit, but a chunked body has none: werkzeug reads
    it up to the limit and stops there without saying whether more followed, so a body cut at the
    limit would be parsed. One byte read past the limit tells (only without a Content-Length: with
    one, the server's stream ends where the body does)."""
    limit = request.max_content_length
    try:
        raw = request.get_data(cache=False)
        cut = (
            limit is not None
            and request.content_length is None
            and len(raw) >= limit
            and request.input_stream.read(1)
        )
    except RequestEntityTooLarge:
        cut = True
    if cut:
        raise RequestEntityTooLarge(
            f"The request body is larger than the limit of {limit:,} bytes (UTOMLANS_MAX_BODY_MB)."
        )
    if request.content_length is not None and len(raw) < request.content_length:
        # The client stopped sending early: werkzeug takes the end of input for the end of the body.
        raise BadRequest(
            f"The request body ended after {len(raw):,} of the {request.content_length:,} bytes "
            "its Content-Length announced."
        )
    return raw


def json_response(data, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=as_float), status=status, mimetype="application/json")


def json_request_body(schema, *, example=None, examples=None, required: bool = True) -> dict:
    """The OpenAPI `requestBody` of a JSON body with its example(s), for @blp.doc(**...): for a view
    that reads its body with read_json() (flask-smorest does not see it), or to add the examples."""
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    if examples is not None:
        content["examples"] = examples
    return {"requestBody": {"required": required, "content": {"application/json": content}}}


def json_body_errors(blp, unprocessable: str, **example):
    """Document the problems an operation that reads a JSON body with read_json() can answer:
    422 (`unprocessable` says when), 400, 413 and 415. `example=` adds an example to the 422."""
    documented = (
        blp.alt_response(
            422,
            description=unprocessable,
            schema="Problem",
            content_type="application/problem+json",
            **example,
        ),
        blp.alt_response(400, response="BAD_REQUEST"),
        blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE"),
        blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE"),
    )

    def decorate(view):
        for document in reversed(documented):
            view = document(view)
        return view

    return decorate
