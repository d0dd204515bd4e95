"""Every error becomes application/problem+json: werkzeug's HTTP errors, webargs' 422, the engine's
InvalidContact, a body the server cannot read, and anything unexpected (a 500 that is logged here
and says nothing of internals). What gunicorn answers before the app is called:
api/gunicorn_worker.py."""

import logging

from flask import Flask, request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import HTTPException

import rules
from rules.schema import flatten_errors

from .problem import ProblemError, problem

log = logging.getLogger("api.errors")

# Headers of an HTTP error worth keeping in the problem response (405 must say what is allowed).
_KEPT_HEADERS = ("Allow", "Retry-After")


def http_problem(error: HTTPException):
    """werkzeug/flask-smorest HTTPException -> problem. webargs' 422 carries per-location messages."""
    status = error.code or 500
    if status >= 500:
        return internal_problem(getattr(error, "original_exception", None) or error)
    headers = {k: v for k, v in error.get_headers() if k in _KEPT_HEADERS}
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        # webargs nests messages under the location ("query", "json"): the field names say enough.
        flat = {}
        for location_messages in messages.values():
            flat.update(flatten_errors(location_messages))
        return problem(
            status, "The request parameters are not valid: see errors.", errors=flat, instance=request.path
        )
    detail = error.description if isinstance(error.description, str) else None
    return problem(status, detail, instance=request.path, headers=headers)


def invalid_contact_problem(error: rules.InvalidContact):
    return problem(422, "The contact is not valid: see errors.", errors=error.errors, instance=request.path)


def raised_problem(error: ProblemError):
    return problem(error.status, error.detail, errors=error.errors, instance=request.path)


def unreadable_body_problem(error: ParseException):
    """gunicorn raises this while the app reads a chunked body with a malformed chunk: the client's
    error, not the server's. (A client gone before the body's end: werkzeug's 400.)"""
    log.warning("unreadable request body on %s %s: %s", request.method, request.path, error)
    return problem(400, f"The request body could not be read: {error}", instance=request.path)


def internal_problem(error: BaseException | None):
    """Log the real cause with its traceback; tell the client only that it failed."""
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem(
        500,
        "The server failed to handle this request. The error has been logged; no decision was answered.",
        instance=request.path,
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(rules.InvalidContact, invalid_contact_problem)
    app.register_error_handler(ProblemError, raised_problem)
    app.register_error_handler(ParseException, unreadable_body_problem)
    app.register_error_handler(Exception, internal_problem)
