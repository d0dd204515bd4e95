"""/v1/policy-versions: the policies the service has decided with, or may, and which is in force.

Stored in the database (api/storage/policy_versions.py), addressed by the digest verdicts carry as
`policy.version`. Activation applies within a second on every worker and instance, and is
audited; rolling back is activating an earlier version. Scope `policy:admin` (a national role).
"""

import re

from flask import url_for
from flask_smorest import Blueprint

from rules import Policy, PolicyError
from rules.policy_candidate import CandidateError, check_files, overlay_files
from rules.policy_diff import diff

from .. import examples
from ..auth import current_client
from ..json_io import json_body_errors, json_request_body, json_response, read_body
from ..problem import PROBLEM_JSON, ProblemError
from ..storage import VersionNotFound
from ..storage.service import current_storage
from .policy_versions_schemas import (
    ACTIVE_ALIAS,
    DIGEST,
    ActivationSchema,
    CandidateSchema,
    DiffQuerySchema,
    PolicyAuditEntrySchema,
    PolicyAuditSchema,
    PolicyDiffSchema,
    PolicyVersionDetailSchema,
    PolicyVersionListSchema,
    PolicyVersionSchema,
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


CANDIDATE_INVALID = "The candidate policy is not valid: see errors."
BODY_INVALID = "The request body is not valid: see errors."


@blp.route("", methods=["POST"])
@blp.doc(
    summary="Propose a candidate version",
    description="Either a whole policy (`files`: name -> YAML text) or an overlay (`overrides` on the `base` "
    "version's files, in the syntax of what-if scenarios). An overlay may name the decision behind it "
    "(`source`): it is added to sources.yaml and every value the overrides change cites it, so verdicts "
    "resting on them cite the decision; without one those values are assumptions. The resulting files "
    "(an overlay's unchanged files byte for byte) pass every check of `python -m rules check` or the "
    "answer is a 422 whose `errors` are keyed `files.<file>` (unknown, missing, not YAML: all found), "
    "`files.<file>.<key>` (the loader's first problem, once every file parses) or `overrides.<key>`. "
    "Stored as a `candidate` (audited): 201 with Location; content stored before: 200 with that version, "
    "whatever its status.",
    **json_request_body(CandidateSchema, examples=examples.candidate_examples()),
)
@blp.response(201, PolicyVersionSchema)
@blp.alt_response(
    200, schema=PolicyVersionSchema, description="The same files are stored already: that version."
)
@json_body_errors(blp, "The body or the policy it makes is not valid; `errors` by field, file and key.")
def add_version():
    body = read_body(CandidateSchema(), CANDIDATE_INVALID)
    storage = current_storage()
    base = overlay = None
    if "overrides" in body:
        base = _base(body.get("base", "active"))
        overlay = {"overrides": body["overrides"], "source": body.get("source")}
    try:
        if overlay is None:
            files = body["files"]
        else:
            base_files = storage.versions.get(base)["files"]
            files = overlay_files(base_files, body["overrides"], base=base, source=body.get("source"))
        check_files(files)
    except CandidateError as exc:
        raise ProblemError(422, CANDIDATE_INVALID, errors=exc.errors) from None
    record, added = storage.versions.add(
        files, actor=current_client(), note=body["note"], base=base, overlay=overlay
    )
    response = json_response(record, 201 if added else 200)
    response.headers["Location"] = url_for(".get_version", digest=record["digest"])
    return response


def _base(base: str) -> str:
    """An overlay's base version: stored, and loadable by today's engine (else 422 on `base`)."""
    versions = current_storage().versions
    digest = versions.state().active if base == "active" else base
    try:
        versions.policy(digest)
    except VersionNotFound:
        raise ProblemError(
            422, CANDIDATE_INVALID, errors={"base": ["No stored version with this digest."]}
        ) from None
    except PolicyError as exc:
        raise ProblemError(
            422, CANDIDATE_INVALID, errors={"base": [f"The base version does not pass today's checks: {exc}"]}
        ) from None
    return digest


@blp.route(
    "/<string:digest>/diff",
    methods=["GET"],
    parameters=[
        {
            "in": "path",
            "name": "digest",
            "description": "The version compared (the new side). Example: the digest the overlay example of "
            "POST /v1/policy-versions gets on a new database",
            "example": examples.candidate_policy().version,
        }
    ],
)
@blp.doc(
    summary="What a version changes",
    description="The structured difference from `against` (the old side; default `active`) to this version: "
    "parameters per period (old and new value, each with its source), periods added, removed or with "
    "other dates, rules added, removed, moved or changed, catalogue texts, sources. The same as "
    "`python -m rules diff DIR_A DIR_B`.",
)
@blp.arguments(DiffQuerySchema, location="query", as_kwargs=True, unknown=None)  # None: the schema RAISEs
@blp.response(200, PolicyDiffSchema, example=examples.policy_diff_example())
@_not_found_doc()
@blp.alt_response(
    422,
    description="`against` is neither `active` nor a digest, or a version fails today's checks.",
    schema="Problem",
    content_type=PROBLEM_JSON,
)
def diff_versions(digest, against):
    new = version_or_404(digest)["digest"]  # either side may be `active`
    old = version_or_404(against)["digest"]
    return json_response(diff(compiled_or_422(old, "against"), compiled_or_422(new)))


def compiled_or_422(digest: str, field: str = "digest") -> Policy:
    """The stored version compiled; 422 on `field` if today's engine cannot load it."""
    try:
        return current_storage().versions.policy(digest)
    except PolicyError as exc:
        raise ProblemError(
            422, "The version does not pass today's checks.", errors={field: [str(exc)]}
        ) from None


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
    description="For new requests on every worker and instance, within a second (no restart). The "
    "version in force before is retired; rolling back is activating it again. Audited: "
    "GET /v1/policy-versions/audit. The version already in force stays as it is, unaudited: the answer "
    "is the entry that put it in force.",
    **json_request_body(
        ActivationSchema, example={"note": "Regionstyrelsen 2026-11-28 § 12: the stop is advisory"}
    ),
)
@blp.response(200, PolicyAuditEntrySchema)
@json_body_errors(blp, "No `note`, or the version fails today's checks (`errors.digest`).")
@_not_found_doc()
def activate_version(digest):
    body = read_body(ActivationSchema(), BODY_INVALID)
    digest = version_or_404(digest)["digest"]
    compiled_or_422(digest)  # refuse a version today's engine cannot load
    entry = current_storage().versions.activate(digest, actor=current_client(), note=body["note"])
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
