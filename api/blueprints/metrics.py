"""GET /metrics: Prometheus text exposition (see api/instrumentation.py for what is counted)."""

from flask import Response
from flask_smorest import Blueprint

from ..instrumentation import exposition

blp = Blueprint("metrics", __name__, description="Prometheus metrics.")


@blp.route("/metrics", methods=["GET"])
@blp.doc(
    operationId="metrics",
    summary="Prometheus metrics",
    description="Requests by route, method and status; request latency histogram; decisions made by reason "
    "and decision (`utomlans_verdicts_total`); identical resubmissions answered with their stored decision "
    "(`utomlans_replayed_verdicts_total`, not counted as decisions made); rejected contacts. Across all "
    "gunicorn workers.",
    responses={
        "200": {
            "description": "Prometheus text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics():
    body, content_type = exposition()
    return Response(body, content_type=content_type)
