"""Liveness and readiness for orchestrators and load balancers."""

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..json_io import json_response
from ..policy_source import current_policy
from ..problem import problem
from ..readiness import is_ready, run_checks

blp = Blueprint("operations", __name__, description="Liveness, readiness and metrics.")

_ALIVE = b'{"status":"ok"}'


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"example": "ready"})
    checks = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True, metadata={"example": {"policy": "ok"}}
    )
    policy_rules_digest = fields.String(required=True)


@blp.route("/health", methods=["GET"])
@blp.doc(
    operationId="health",
    summary="Liveness",
    description="The process answers. Touches nothing else: cheap enough to poll often.",
)
@blp.response(200, HealthSchema)
def health():
    return Response(_ALIVE, mimetype="application/json")


@blp.route("/ready", methods=["GET"])
@blp.doc(
    operationId="ready",
    summary="Readiness",
    description="Ready to decide: the policy is loaded and every registered check (storage, when configured) "
    "passes. 503 with the failing checks otherwise. A check may say `warning: ...` and leave the service "
    "ready: e.g. `keys` when the API key file cannot be used (empty, unreadable, missing or not valid) "
    "and the keys loaded before stay in use until it is fixed; `shadow` when this release cannot load the "
    "version in shadow, so decisions are made without it until the shadow is ended.",
)
@blp.response(200, ReadySchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def ready():
    checks = run_checks()
    if not is_ready(checks):
        return problem(503, "Not ready: see checks.", checks=checks)
    return json_response(
        {"status": "ready", "checks": checks, "policy_rules_digest": current_policy().rules_digest}
    )
