"""/v1/policy-versions: the policies the service has decided with, or may, and which is in force.

Stored in the database (api/storage/policy_versions.py), addressed by the digest verdicts carry as
`policy.version`. Activation applies from the next request on every worker and instance, and is
audited; rolling back is activating an earlier version. Scope `policy:admin` (a national role).
"""

import re

from flask_smorest import Blueprint

from rules import Policy, PolicyError

from ..auth import current_client
from ..json_io import json_body_errors, json_response
from ..problem import PROBLEM_JSON, ProblemError
from ..storage import VersionNotFound
from ..storage.service import current_storage
from .policy_versions_schemas import (
    ACTIVE_ALIAS,
    DIGEST,
    ActivationSchema,
    PolicyAuditEntrySchema,
    PolicyAuditSchema,
    PolicyVersionDetailSchema,
    PolicyVersionListSchema,
)

blp = Blueprint(
    "policy_versions",
    __name__,
    url_prefix="/v1/policy-versions",
    description="Policy versions: every policy the service has decided with, by digest; which one is in "
    "force; activation (audited) without a restart.",
)


def _not_found():
    return ProblemError(404, "No policy version with this digest.")


def _not_found_doc():
    return blp.alt_response(
        404, description="No policy version with this digest.", schema="Problem", content_type=PROBLEM_JSON
    )


# Every {digest} in a path: a version's digest, or `active` for the one in force (so Swagger UI's
# example works on any database).
DIGEST_PARAMETER = {
    "in": "path",
    "name": "digest",
    "description": "A policy version's digest (`policy.version` of a verdict), or `active`: the one in force",
    "example": ACTIVE_ALIAS,
}


def version_or_404(digest: str) -> dict:
    """The stored version (files included) named by a path's digest or `active`; 404 for any other."""
    storage = current_storage()
    if digest == ACTIVE_ALIAS:
        digest = storage.versions.state().active
    if digest is None or not re.fullmatch(DIGEST, digest):
        raise _not_found()
    try:
        return storage.versions.get(digest)
    except VersionNotFound:
        raise _not_found() from None


@blp.route("", methods=["GET"])
@blp.doc(summary="List policy versions", description="Newest first, without their files.")
@blp.response(200, PolicyVersionListSchema)
def list_versions():
    storage = current_storage()
    return json_response({"active": storage.versions.state().active, "items": storage.versions.all()})


@blp.route("/audit", methods=["GET"])
@blp.doc(
    summary="Who changed the policy, when",
    description="Every version added, activated, put in or out of shadow: who, when, from which version, "
    "and the note given. Oldest first; append-only.",
)
@blp.response(200, PolicyAuditSchema)
def policy_audit():
    return json_response({"items": current_storage().versions.audit()})


@blp.route("/<string:digest>", methods=["GET"], parameters=[DIGEST_PARAMETER])
@blp.doc(summary="One policy version", description="Its files, its layers and whether it passes the checks.")
@blp.response(200, PolicyVersionDetailSchema)
@_not_found_doc()
def get_version(digest):
    record = version_or_404(digest)
    try:
        policy = current_storage().versions.policy(record["digest"])
    except PolicyError as exc:
        record.update(layers=[], check={"ok": False, "summary": str(exc)})
    else:
        record.update(layers=layers_of(policy), check={"ok": True, "summary": policy.summary()})
    return json_response(record)


@blp.route("/<string:digest>/activate", methods=["POST"], parameters=[DIGEST_PARAMETER])
@blp.doc(
    summary="Put a version in force",
    description="For new requests on every worker and instance, from their next request (no restart). The "
    "version in force before is retired; rolling back is activating it again. Audited: "
    "GET /v1/policy-versions/audit.",
)
@blp.arguments(ActivationSchema, example={"note": "Regionstyrelsen 2026-11-28 § 12: the stop is advisory"})
@blp.response(200, PolicyAuditEntrySchema)
@json_body_errors(blp, "No `note`, or the version fails today's checks (`errors.digest`).")
@_not_found_doc()
def activate_version(body, digest):
    digest = version_or_404(digest)["digest"]
    storage = current_storage()
    try:
        storage.versions.policy(digest)  # refuse a version today's engine cannot load
    except PolicyError as exc:
        raise ProblemError(
            422, "The version does not pass the checks.", errors={"digest": [str(exc)]}
        ) from None
    entry = storage.versions.activate(digest, actor=current_client(), note=body["note"])
    return json_response(entry)


def layers_of(policy: Policy) -> list[dict]:
    periods = [(None, period) for period in policy.national]
    periods += [(region, period) for region in sorted(policy.regional) for period in policy.regional[region]]
    return [
        {
            "layer": period.layer,
            "home_region": region,
            "id": period.id,
            "valid_from": period.valid_from.isoformat(),
            "valid_to": period.valid_to.isoformat() if period.valid_to else None,
            "file": period.file,
            "digest": period.digest,
        }
        for region, period in periods
    ]
