"""GET /v1/decisions and /v1/decisions/{id}: the decision log, for billing disputes months later.

Every answer that returns decisions is recorded (api/audited_reads.py) before it is sent.
"""

from flask_smorest import Blueprint

from rules import Policy, PolicyError
from rules.replay import NotReplayable, decided_with, replay
from rules.text import has_control_characters

from .. import audited_reads, examples
from ..json_io import json_response
from ..openapi_security import forbidden_for_regions
from ..problem import PROBLEM_JSON, ProblemError
from ..region_reads import regions_to_read
from ..storage import VersionNotFound
from ..storage.service import current_storage
from .decisions_schemas import (
    DecisionPageSchema,
    DecisionQuerySchema,
    DecisionRecordSchema,
    FeedPageSchema,
    FeedQuerySchema,
    ReplaySchema,
)

blp = Blueprint(
    "decisions",
    __name__,
    url_prefix="/v1/decisions",
    description="Every verdict the service issued, as it was answered, with the contact and the policy used. "
    "Every answer that returns decisions (a 404 by id too) is recorded before it is sent, with the key id "
    "and the decision ids: `GET /v1/access-log` lists who saw what.",
)


@blp.route("", methods=["GET"])
@blp.doc(
    summary="Find decisions",
    description="Filter by contact_id, home_region, reason, decision, evaluated_at and contact_date ranges "
    "(both inclusive). Oldest first by evaluated_at; pass `next_cursor` back as `cursor` for the next page. "
    "Each page is read from an index in that order, the index of contact_id if given, else of home_region "
    "or reason, else of evaluated_at; the other filters are checked on the way, so a rare "
    "combination without contact_id or an evaluated_at range reads far. A search that runs past the "
    "service's time limit is answered 503. "
    "To keep a copy of the log in step, read `/v1/decisions/feed`: a batch's decisions carry the moment it "
    "started but appear when it commits, so polling by `evaluated_from` misses them. "
    "A key scoped to regions finds only the decisions whose home_region or care_region is one of its "
    "regions (without contact_id or home_region, each region is read by the index of home_region and "
    "that of care_region, merged); a home_region outside them is a 403.",
)
@blp.arguments(DecisionQuerySchema, location="query", as_kwargs=True, unknown=None)  # None: the schema RAISEs
@blp.response(200, DecisionPageSchema)
@forbidden_for_regions(blp, "the `home_region` filter is not one of the API key's regions")
def find_decisions(cursor=None, limit=100, **filters):
    regions = regions_to_read(filters.get("home_region"))
    try:
        page = current_storage().decisions.find(cursor=cursor, limit=limit, regions=regions, **filters)
    except ValueError as exc:
        raise ProblemError(
            422, "The request parameters are not valid: see errors.", errors={"cursor": [str(exc)]}
        ) from None
    audited_reads.record([item["decision_id"] for item in page.items])
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


@blp.route("/feed", methods=["GET"])
@blp.doc(
    summary="Every committed decision, once, in order",
    description="Every committed decision exactly once, in the order the feed finds the transactions that "
    "stored them committed (a decision always after the one it supersedes, a batch's decisions together, "
    "when it commits), never one whose transaction is still open. "
    "Every page has a `next` token, an empty page too: pass it as `after` to resume, now or later. "
    "Without `after` the feed starts at the first decision. "
    "A key scoped to regions gets only the decisions whose home_region or care_region is one of its "
    "regions: each page looks at up to 10,000 decisions of the log, so it may hold fewer than `limit`, "
    "none even, while more follow; its `next` moves past all it looked at. Tokens are the same for "
    "every key.",
)
@blp.arguments(FeedQuerySchema, location="query", as_kwargs=True, unknown=None)  # None: the schema RAISEs
@blp.response(200, FeedPageSchema)
def decision_feed(after=None, limit=100):
    try:
        page = current_storage().feed.page(after, limit, regions_to_read())
    except ValueError as exc:
        raise ProblemError(
            422, "The request parameters are not valid: see errors.", errors={"after": [str(exc)]}
        ) from None
    audited_reads.record([item["decision_id"] for item in page.items])
    return json_response({"items": page.items, "next": page.next})


@blp.route("/<string:decision_id>", methods=["GET"])
@blp.doc(
    summary="One decision",
    description="The stored decision, with the verdict exactly as it was answered. A key scoped to regions "
    "gets 404 for a decision whose home_region and care_region are both outside its regions, as for one "
    "that does not exist.",
)
@blp.response(200, DecisionRecordSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_decision(decision_id):
    return json_response(_readable(decision_id))


@blp.route("/<string:decision_id>/replay", methods=["POST"])
@blp.doc(
    summary="Replay a decision",
    description="Decides the stored contact again under the exact policy version and contract-registry "
    "state it was decided with (`policy.version`, `policy.contract_book` of the decision), judged as of "
    "the day it was decided (the date in Stockholm of its `evaluated_at`), and compares the verdict with "
    "the stored one member by member. `decision_id`, `evaluated_at` and `supersedes` are not compared: "
    "the service adds them when it issues a decision, and a replay issues nothing and stores nothing. "
    "Today's engine code runs on the stored version's files, so a difference means the engine or the "
    "stored data changed since. Read and recorded in the access log as `GET /v1/decisions/{decision_id}` "
    "is (a 404 too, and a 409 with the decision's id); a key scoped to regions gets 404 for another "
    "region's decision. Try it out with the `decision_id` of a verdict from `POST /v1/verdicts`.",
)
@blp.response(200, ReplaySchema, example=examples.replay_example())
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(
    409,
    description="The decision cannot be replayed: decided before the service kept its policy versions "
    "and contract books (migration 0009), or its version no longer loads; `detail` says which.",
    schema="Problem",
    content_type=PROBLEM_JSON,
)
def replay_decision(decision_id):
    record = _readable(decision_id)
    try:
        policy = _decided_with(record)
    except NotReplayable as exc:
        raise ProblemError(409, str(exc)) from None
    return json_response(replay(record, policy))


def _readable(decision_id: str) -> dict:
    """The stored decision, if the caller's key may read it, recorded as read; else a 404 problem."""
    # An id no decision can have (over 36 characters, control characters) is not looked up.
    possible = len(decision_id) <= 36 and not has_control_characters(decision_id)
    if not possible:
        raise ProblemError(404, "No decision with this id (or not one the API key may read).")
    record = current_storage().decisions.get(decision_id, regions_to_read())
    # A look-up that finds nothing is recorded too, with no decision: who asked for what (an id
    # guessed, or one of a decision the key may not read) is in the access log.
    audited_reads.record([] if record is None else [record["decision_id"]])
    if record is None:
        raise ProblemError(404, "No decision with this id (or not one the API key may read).")
    return record


def _decided_with(record: dict) -> Policy:
    """The policy version the decision was made with, with its contract book; NotReplayable."""
    version, book_digest = decided_with(record)
    storage = current_storage()
    try:
        policy = storage.versions.policy(version)
    except VersionNotFound:
        raise NotReplayable(f"Policy version {version} is not stored.") from None
    except PolicyError as exc:
        raise NotReplayable(f"Policy version {version} does not load: {exc}") from None
    book = storage.books.get(book_digest)
    if book is None:
        raise NotReplayable(f"Contract book {book_digest} is not stored.")
    return policy.with_contracts(book)
