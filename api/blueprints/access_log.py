"""GET /v1/access-log: who was sent which decisions, when, through which endpoint and query.

The record is written by the views that return decisions (api/audited_reads.py); it is
append-only: there is no endpoint that changes or deletes it.
"""

from flask_smorest import Blueprint

from ..json_io import json_response
from ..problem import ProblemError
from ..storage.service import current_storage
from .access_log_schemas import AccessLogPageSchema, AccessLogQuerySchema

blp = Blueprint(
    "access_log",
    __name__,
    url_prefix="/v1/access-log",
    description="Audited reads: every answer that returned decisions (by id, lists, the feed, "
    "readjudication), recorded before it was sent. Append-only: no operation changes or deletes a record.",
)


@blp.route("", methods=["GET"])
@blp.doc(
    summary="Who read which decisions",
    description="Filter by `client` (API key id), a period (`from`, `to`, both inclusive) and `decision_id` "
    "(who saw this decision). Oldest first; pass `next_cursor` back as `cursor` for the next page. A 404 "
    "by id is recorded with no decision ids (its path names the id asked for). A record becomes visible "
    "moments after its time (when it commits): for a complete answer, read a period that has ended.",
)
@blp.arguments(
    AccessLogQuerySchema, location="query", as_kwargs=True, unknown=None
)  # None: the schema RAISEs
@blp.response(200, AccessLogPageSchema)
def find_reads(cursor=None, limit=100, **filters):
    try:
        page = current_storage().reads.find(cursor=cursor, limit=limit, **filters)
    except ValueError as exc:
        raise ProblemError(
            422, "The request parameters are not valid: see errors.", errors={"cursor": [str(exc)]}
        ) from None
    return json_response({"items": page.items, "next_cursor": page.next_cursor})
