"""POST /v1/simulations and /v1/simulations/readjudication: what policy scenarios would cost, and
what a candidate policy would change in the decisions already taken. Thin: rules.simulation does
the work; every scenario uses the contract registry's contracts, as live verdicts do."""

from urllib.parse import urlencode

from flask import Response, current_app, request
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from rules.simulation.generator import GeneratorSpec, describe, generate
from rules.simulation.readjudicate import readjudicate
from rules.simulation.report import render_report
from rules.simulation.scenarios import ScenarioError, build_policy, normalise
from rules.simulation.simulate import simulate_contacts

from .. import audited_reads
from ..json_io import json_body_errors, json_request_body, json_response, read_json
from ..openapi_security import forbidden_for_regions
from ..policy_source import current_policy
from ..problem import ProblemError
from ..region_reads import regions_to_read
from ..storage.service import current_storage
from .simulations_schemas import (
    ReadjudicationRequestSchema,
    ReadjudicationResultSchema,
    SimulationRequestSchema,
    SimulationResultSchema,
)

blp = Blueprint(
    "simulations",
    __name__,
    url_prefix="/v1/simulations",
    description="Policy impact: cost of scenarios by reason, age group, sex, profession and month; "
    "re-adjudication of stored decisions under a candidate policy.",
)

DEFAULT_SCENARIOS = ["in_force", "national_only", "stop_from_2020", "ds_2023_27"]
MAX_SCENARIOS = 8
SHAPE = "The body is not a valid simulation request: see errors."
SIMULATION_EXAMPLE = {
    "generate": {"year": 2020, "home_region": "25", "count": 1000, "seed": 347},
    "scenarios": [
        "in_force",
        "stop_from_2020",
        {
            "name": "stop_advisory",
            "base": "stop_from_2020",
            "overrides": {"regions.25.digital_stop.enforcement": "advisory"},
        },
    ],
}
# The body's fields that select the decisions read: the query a readjudication's record shows.
READJUDICATION_SELECTION = ("home_region", "contact_date_from", "contact_date_to", "limit")
READJUDICATION_EXAMPLE = {"scenario": "national_only", "home_region": "25", "limit": 10000}


def _max_contacts() -> int:
    return current_app.config.get("SIMULATION_MAX_CONTACTS") or current_app.config["BATCH_MAX_LINES"]


def _scenarios(body) -> list:
    scenarios = body.get("scenarios", DEFAULT_SCENARIOS)
    if not isinstance(scenarios, list) or not 1 <= len(scenarios) <= MAX_SCENARIOS:
        raise ProblemError(
            422, SHAPE, errors={"scenarios": [f"Expected a list of 1 to {MAX_SCENARIOS} scenarios."]}
        )
    for i, spec in enumerate(scenarios):
        normalise(spec, f"scenarios[{i}]")  # raises ScenarioError, keyed scenarios[i]...
    return scenarios


def _data(body):
    """(iterable of contacts, data description) from `contacts` or `generate`."""
    has_contacts, has_generate = "contacts" in body, "generate" in body
    if has_contacts == has_generate:
        raise ProblemError(422, SHAPE, errors={"_schema": ["Give exactly one of `contacts` and `generate`."]})
    limit = _max_contacts()
    if has_contacts:
        contacts = body["contacts"]
        if not isinstance(contacts, list):
            raise ProblemError(422, SHAPE, errors={"contacts": ["Not a valid list."]})
        if len(contacts) > limit:
            raise RequestEntityTooLarge(
                f"At most {limit:,} contacts per simulation; this one has {len(contacts):,}."
            )
        return contacts, {"source": "contacts", "label": f"{len(contacts):,} contacts sent in the request"}
    try:
        spec = GeneratorSpec.from_dict(body["generate"], max_count=limit)
    except ValueError as exc:
        raise ProblemError(422, SHAPE, errors=exc.args[0]) from None
    return generate(spec), {"source": "generated", "label": describe(spec)}


def wants_html(body) -> bool:
    if "format" in body:
        return body["format"] == "html"
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


@blp.route("", methods=["POST"])
@blp.doc(
    summary="Simulate policy scenarios",
    description="Decides the contacts (sent, or a generated synthetic year: `generate`) under each scenario "
    "and returns per scenario the count, paid contacts and amount, broken down by reason, age group (SPEC "
    "section 8), sex, profession and month, plus the change of every scenario against the first (the "
    "baseline), including which verdicts change. Bad contacts are listed under `rejected` by index and "
    "never counted. `format: html` (or Accept: text/html) returns the self-contained HTML report with "
    "charts. Any API key with scope `verdicts` may simulate contacts of any region: they are the caller's "
    "own or synthetic, and nothing is stored or read from the decision log.",
    **json_request_body(SimulationRequestSchema, example=SIMULATION_EXAMPLE),
)
@blp.response(200, SimulationResultSchema)
@blp.alt_response(
    200,
    success=True,
    description="The report as one self-contained HTML page (format html)",
    content_type="text/html",
    schema={"type": "string"},
)
@json_body_errors(blp, "Bad request shape, scenario or generator spec; `errors` says what, per key.")
def post_simulation():
    body = read_json()
    if not isinstance(body, dict):
        raise ProblemError(422, SHAPE, errors={"_schema": ["Expected a JSON object."]})
    unknown = set(body) - {"contacts", "generate", "scenarios", "format"}
    if unknown:
        raise ProblemError(422, SHAPE, errors={key: ["Unknown field."] for key in sorted(unknown)})
    if "format" in body and body["format"] not in ("json", "html"):
        raise ProblemError(422, SHAPE, errors={"format": ["Must be one of: json, html."]})
    try:
        scenarios = _scenarios(body)
        contacts, data = _data(body)
        in_force = current_policy()  # the scenarios are laid on the version in force
        result = simulate_contacts(contacts, scenarios, in_force.contracts, in_force).to_dict()
    except ScenarioError as exc:
        raise ProblemError(422, SHAPE, errors=exc.errors) from None
    result["data"] = data
    if wants_html(body):
        return Response(render_report(result, data_label=data["label"]), mimetype="text/html")
    return json_response(result)


@blp.route("/readjudication", methods=["POST"])
@blp.doc(
    summary="Re-adjudicate stored decisions under a candidate policy",
    description="Reads decisions from the decision log (optionally one home region and a contact_date range, "
    "oldest first, at most `limit`), decides each contact again under the candidate scenario, and lists the "
    "verdicts that change and the money difference per home region. A contact decided more than once counts "
    "once, with its latest decision. A key scoped to regions reads only the decisions whose home_region "
    "or care_region is one of its regions; a home_region outside them is a 403. The access log records the "
    "request with the decision ids it names (`changed.items`) and its selection (home_region, "
    "contact_date_from, contact_date_to, limit).",
    **json_request_body(ReadjudicationRequestSchema, example=READJUDICATION_EXAMPLE),
)
@blp.response(200, ReadjudicationResultSchema)
@json_body_errors(blp, "Bad request: `errors` says what, per key.")
@forbidden_for_regions(blp, "the `home_region` is not one of the API key's regions")
def post_readjudication():
    body = read_json()
    if not isinstance(body, dict):
        raise ProblemError(422, SHAPE, errors={"_schema": ["Expected a JSON object."]})
    filters, errors = _readjudication_filters(body)
    if errors:
        raise ProblemError(422, SHAPE, errors=errors)
    filters["regions"] = regions_to_read(filters.get("home_region"))
    try:
        in_force = current_policy()  # the scenario is laid on the version in force
        policy = build_policy(body["scenario"], "scenario", in_force).with_contracts(in_force.contracts)
    except ScenarioError as exc:
        raise ProblemError(422, SHAPE, errors=exc.errors) from None
    limit = body.get("limit", 100_000)
    state = {"truncated": False}
    result = readjudicate(_stored_decisions(filters, limit, state), policy)
    result["truncated"] = state["truncated"]
    named = [item["decision_id"] for item in result["changed"]["items"] if item["decision_id"]]
    selection = {key: body[key] for key in READJUDICATION_SELECTION if key in body}
    audited_reads.record(named, query=urlencode(selection))
    return json_response(result)


def _readjudication_filters(body) -> tuple[dict, dict]:
    from datetime import date

    from rules.calendar import parse_iso_date
    from rules.regions import REGIONS

    errors: dict[str, list[str]] = {}
    for key in set(body) - {"scenario", *READJUDICATION_SELECTION}:
        errors[key] = ["Unknown field."]
    if "scenario" not in body:
        errors["scenario"] = ["Missing data for required field."]
    filters: dict[str, object] = {}
    if "home_region" in body:
        if not isinstance(body["home_region"], str) or body["home_region"] not in REGIONS:
            errors["home_region"] = ["Not a region code in use (01, 03-10, 12-14, 17-25)."]
        filters["home_region"] = body["home_region"]
    for key in ("contact_date_from", "contact_date_to"):
        if key in body:
            try:
                filters[key] = parse_iso_date(body[key])
            except ValueError as exc:
                errors[key] = [str(exc)]
    limit = body.get("limit", 100_000)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100_000:
        errors["limit"] = ["Must be an integer from 1 to 100000."]
    start, end = filters.get("contact_date_from"), filters.get("contact_date_to")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["contact_date_to"] = ["Must not be before contact_date_from."]
    return filters, errors


def _stored_decisions(filters: dict, limit: int, state: dict):
    """Decision records from the log, page by page, at most `limit`."""
    log = current_storage().decisions
    cursor, read = None, 0
    while True:
        page = log.find(cursor=cursor, limit=min(1000, limit - read), **filters)
        yield from page.items
        read += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return
        if read >= limit:
            state["truncated"] = True
            return
