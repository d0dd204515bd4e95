"""The record of a response that returns decisions, written before it is sent
(api/storage/read_audit.py): the views that read the decision log call `record` last.

    items = current_storage().decisions.find(...)
    audited_reads.record([item["decision_id"] for item in items])
    return json_response(...)
"""

import string
from urllib.parse import quote

from flask import request

from .auth import current_client
from .identity_mask import masked
from .storage.service import current_storage


def record(decision_ids: list[str], query: str | None = None) -> None:
    """Record that the caller is being sent these decisions by this request. `query`: what selected
    them, as a query string, when the request's own query string does not say (a POST body's
    filters). What could be an identity number in the path or query is masked (api/identity_mask.py).
    Raises what the database raises: the response is then not sent (503)."""
    current_storage().reads.record(
        client=current_client(),
        method=request.method,
        path=masked(request.path),
        query=masked(_query_string() if query is None else query),
        decision_ids=decision_ids,
    )


def _query_string() -> str:
    """As sent; a byte that is no printable ASCII (a control character, raw UTF-8) percent-encoded,
    so the record holds text every database stores."""
    return quote(request.query_string, safe=string.punctuation)
