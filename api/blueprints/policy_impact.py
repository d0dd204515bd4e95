"""POST /v1/policy-versions/{digest}/impact: what a policy version would change in the decisions
already stored. Thin: api/storage/policy_impact.py selects and reads the decisions, and
rules/simulation/impact.py decides and counts them. Scope `policy:admin` (api/auth.py)."""

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import ValidationError

from ..json_io import json_body_errors, json_request_body, json_response, read_json
from ..problem import PROBLEM_JSON, ProblemError
from ..storage.policy_impact import Selection, impact
from ..storage.service import current_storage
from .policy_impact_schemas import ImpactRequestSchema, ImpactResultSchema
from .policy_versions import DIGEST_PARAMETER, compiled_or_422, version_or_404
from .simulations import wants_html

blp = Blueprint(
    "policy_impact",
    __name__,
    url_prefix="/v1/policy-versions",
    description="Policy versions: the impact of a version on the stored decision log.",
)

IMPACT_EXAMPLE = {"home_region": "25", "contact_date_from": "2022-01-01", "contact_date_to": "2022-12-31"}
SHAPE = "The body is not a valid impact request: see errors."


@blp.route("/<string:digest>/impact", methods=["POST"], parameters=[DIGEST_PARAMETER])
@blp.doc(
    summary="What a version would change in the stored decisions",
    description="Decides the newest stored decision of each contact (contact_id and home_region, whichever "
    "client sent it) again under the version, with the contracts it was decided with, and answers how many "
    "verdicts change, from which reason to which, and the money before, after and the difference, in all and "
    "by home region, age group, sex and month. Optional filters (the body may be left out: the whole log): "
    "`evaluated_from`/`evaluated_to` (when the decisions were made), `contact_date_from`/`contact_date_to`, "
    "`home_region`; the newest decision of a contact is taken among those selected. Decisions stored before "
    "the policy versions (migration 0009) do not name their contracts: they are decided with the registry as "
    "it is now, and counted in `without_contract_book`. Amounts are exact decimal strings. `format: html` "
    "(or Accept: text/html) answers the simulation report's page. Progress is written to the service log; "
    "a million decisions take under a minute (bench/policy_impact.py): give a larger log's client, and "
    "GUNICORN_TIMEOUT, room.",
    **json_request_body(ImpactRequestSchema, example=IMPACT_EXAMPLE, required=False),
)
@blp.response(200, ImpactResultSchema)
@blp.alt_response(
    200,
    success=True,
    description="The simulation report's page (format html): as decided against the version",
    content_type="text/html",
    schema={"type": "string"},
)
@json_body_errors(blp, "A filter is not valid, or the version fails today's checks (`errors.digest`).")
@blp.alt_response(
    404, description="No policy version with this digest.", schema="Problem", content_type=PROBLEM_JSON
)
def post_impact(digest):
    digest = version_or_404(digest)["digest"]  # `active` names the version in force
    body = read_json() if request.content_length or request.mimetype else {}
    if not isinstance(body, dict):
        raise ProblemError(422, SHAPE, errors={"_schema": ["Expected a JSON object."]})
    try:
        filters = ImpactRequestSchema().load(body)
    except ValidationError as exc:
        raise ProblemError(422, SHAPE, errors=exc.messages) from None
    html = wants_html(filters)
    filters.pop("format", None)
    selection = Selection(**filters)
    compiled_or_422(digest)
    run = impact(current_storage(), digest, selection)
    if html:
        return Response(run.impact.report(data_label=_label(selection, digest)), mimetype="text/html")
    return json_response(run.to_dict())


def _label(selection: Selection, digest: str) -> str:
    chosen = ", ".join(f"{key} {value}" for key, value in selection._asdict().items() if value is not None)
    return (
        f"the stored decision log ({chosen or 'every decision'}), the newest decision of each contact, "
        f"as decided and under version {digest[:12]}"
    )
