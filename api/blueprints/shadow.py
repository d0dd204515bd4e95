"""/v1/shadow: one stored version decided beside the one in force, on live traffic.

While a version runs in shadow, every decision made (POST /v1/verdicts, each line a batch decides
and stores; not a resubmission answered with its stored decision) is also decided under it, next
to the verdict answered (api/issuing.py); the answer is unchanged. Each such decision names the
shadow version, and a disagreement is stored with its decision, in its transaction. Put and end
are audited (GET /v1/policy-versions/audit). Scope `policy:admin`.
"""

from flask import Response
from flask_smorest import Blueprint

from .. import examples
from ..auth import current_client
from ..json_io import json_body_errors, json_request_body, json_response, read_body
from ..problem import PROBLEM_JSON, ProblemError
from ..storage import VersionInForce, VersionNotFound
from ..storage.service import current_storage
from .policy_versions import BODY_INVALID, compiled_or_422, version_or_404
from .shadow_schemas import ShadowEndQuerySchema, ShadowRequestSchema, ShadowSchema

blp = Blueprint(
    "shadow",
    __name__,
    url_prefix="/v1/shadow",
    description="Shadow: decide live traffic also under a candidate version, answer as before, and count "
    "where it would have decided otherwise.",
)
NO_SHADOW = "No version runs in shadow."


def _no_shadow_doc():
    return blp.alt_response(404, description=NO_SHADOW, schema="Problem", content_type=PROBLEM_JSON)


@blp.route("", methods=["PUT"])
@blp.doc(
    summary="Put a version in shadow",
    description="Within a second on every worker and instance, every decision made is also decided "
    "under this stored version; the answer to the client is unchanged, byte for byte. A decision it "
    "decides otherwise (decision, reason or amount) is stored with the shadow's verdict. It replaces any "
    "other version in shadow; the version already in shadow stays as it is (its counts go on). The "
    "version in force cannot be shadowed (409). Audited (action `shadow`, `previous`: the version it "
    "replaced).",
    **json_request_body(ShadowRequestSchema, example=examples.shadow_request_example()),
)
@blp.response(200, ShadowSchema, example=examples.shadow_example(verdicts=0))
@json_body_errors(
    blp, "No `note`, a malformed `digest`, or a version failing today's checks (`errors.digest`)."
)
@blp.alt_response(
    404, description="No version with this digest is stored.", schema="Problem", content_type=PROBLEM_JSON
)
@blp.alt_response(
    409, description="The version is the one in force.", schema="Problem", content_type=PROBLEM_JSON
)
def put_shadow():
    body = read_body(ShadowRequestSchema(), BODY_INVALID)
    digest = body["digest"]
    version_or_404(digest)
    compiled_or_422(digest)  # refuse a version today's engine cannot load
    storage = current_storage()
    try:
        storage.versions.shadow(digest, actor=current_client(), note=body["note"])
    except VersionNotFound:
        raise ProblemError(404, "No policy version with this digest.") from None
    except VersionInForce:
        raise ProblemError(
            409, "This version is in force: shadow a candidate, to compare it with the version in force."
        ) from None
    return json_response(_report())


@blp.route("", methods=["GET"])
@blp.doc(
    summary="What the version in shadow has seen",
    description="The decisions made since it was put in shadow (`verdicts`), those it decided otherwise "
    "(`disagreements`), and these grouped by the reason answered (`from`) and its reason (`to`), with "
    "the money it would have paid more (`amount_sek`, negative: less). Counted from the decision log, "
    "so every worker and instance is included.",
)
@blp.response(200, ShadowSchema, example=examples.shadow_example())
@_no_shadow_doc()
def get_shadow():
    return json_response(_report())


@blp.route("", methods=["DELETE"])
@blp.doc(
    summary="End the shadow",
    description="Within a second on every worker, decisions are made under the version in force alone. "
    "The disagreements stay stored. Audited (action `unshadow`).",
)
@blp.arguments(ShadowEndQuerySchema, location="query", unknown=None)  # None: the schema RAISEs
@blp.response(204)
@_no_shadow_doc()
def delete_shadow(query):
    if current_storage().versions.unshadow(actor=current_client(), note=query["note"]) is None:
        raise ProblemError(404, NO_SHADOW)
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no content type
    return response


def _report() -> dict:
    report = current_storage().shadow.now()
    if report is None:  # ended by another request in between
        raise ProblemError(404, NO_SHADOW)
    return report
