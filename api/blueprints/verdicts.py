"""POST /v1/verdicts and /v1/verdicts/batch: contacts in, verdicts out.

A request: read the JSON body → rules.evaluate (which validates) → the decisions
(api/issuing.py; with a version in shadow, each also decided under it there) → stored in the
decision log in one transaction → the response, which is the JSON text the log stored (for a
repeat, the decision stored before). A batch is decided and stored a chunk at a time
(api/batch_chunks.py) in its one transaction.
"""

import io
import tempfile
from collections import Counter

import orjson
from flask import Response, current_app, request
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import wrap_file

import rules

from .. import examples
from ..auth import current_client, current_regions
from ..batch_chunks import answered_summary, decided_chunks
from ..instrumentation import REJECTED, count_outcomes, outcomes
from ..issuing import entries_for, evaluated_at_now
from ..json_io import json_body_errors, json_request_body, read_json
from ..key_regions import REGION_ERROR, contact_refusal
from ..openapi_security import forbidden_for_regions
from ..problem import ProblemError
from ..storage.service import current_storage
from .verdicts_schemas import BatchRequestSchema, BatchResponseSchema, ContactSchema, IssuedVerdictSchema

blp = Blueprint(
    "verdicts",
    __name__,
    url_prefix="/v1/verdicts",
    description="Decide whether the home region pays for out-of-county contacts, and how much.",
)

SPOOL_IN_MEMORY_BYTES = 32 * 1024 * 1024  # a 10,000-line response (~22 MB) stays in memory
BATCH_SHAPE = "The body must be a JSON object with one field, `contacts`, a list: see errors."


@blp.route("", methods=["POST"])
@blp.doc(
    operationId="decide_contact",
    summary="Decide one contact",
    description="Validates one invoice line (SPEC section 6) and returns its verdict: decision, reason, "
    "amount, explanation in Swedish and English, legal basis, flags, the trace of rules looked at and "
    "the policy layers used. Unknown fields are rejected. Each client (API key) has its own chain of "
    "decisions per contact_id and home_region, and never gets or learns of another client's decision: a "
    "contact identical to the newest decision of the client's chain gets that decision back (a retry is "
    "safe); anything else, a return to earlier content included, is a new decision that `supersedes` the "
    "newest of the chain (none for the client's first). "
    "An API key submits only contacts whose home_region or care_region is one of its regions: any other "
    "valid contact is a 403 (no verdict is answered or stored).",
    **json_request_body(ContactSchema, examples=examples.contact_examples()),
)
@blp.response(200, IssuedVerdictSchema, example=examples.verdict_example())
@json_body_errors(
    blp,
    "The contact is not valid; `errors` says what is wrong, per field.",
    example=examples.invalid_contact_problem_example(),
)
@forbidden_for_regions(
    blp,
    f"the contact is valid, but neither its home_region nor its care_region is one of the API key's regions "
    f"(`errors.{REGION_ERROR}` names them); no verdict is answered or stored",
    example=examples.region_refused_problem_example(),
)
def post_verdict():
    data = read_json()
    live = current_storage().live.now()
    try:
        verdict = rules.evaluate(data, live.policy)
    except rules.InvalidContact:
        REJECTED.inc()
        raise
    refusal = contact_refusal(current_regions(), verdict.contact)
    if refusal is not None:
        REJECTED.inc()
        raise ProblemError(403, refusal, errors={REGION_ERROR: [refusal]})
    entries = entries_for([verdict], [data], evaluated_at_now(), current_client(), live.policy, live.shadow)
    (stored,) = current_storage().decisions.record(entries)
    count_outcomes(outcomes(entries, [stored]))
    return Response(stored, mimetype="application/json")


@blp.route("/batch", methods=["POST"])
@blp.doc(
    operationId="decide_batch",
    summary="Decide a batch of contacts",
    description="Decides up to 100,000 invoice lines in one request. Every line gets either a verdict "
    "(under `verdicts`, in input order) or a place under `rejected` with its 0-based index and errors: "
    "a bad line never fails the batch and is never dropped. `summary` counts and sums the verdicts by "
    "decision and reason. The verdicts decided by one batch share one `evaluated_at`; a line identical to "
    "the newest decision of the client's own chain for its contact_id and home_region is answered with "
    "that decision; any other line supersedes it (lines are taken in order: the same contact twice, "
    "differing, is two decisions). A valid line whose home_region and care_region are both outside the API "
    f"key's regions is listed under `rejected` with the errors key `{REGION_ERROR}` (no verdict answered or "
    "stored). More lines than the limit: 413.",
    **json_request_body(BatchRequestSchema, example=examples.batch_request_example()),
)
@blp.response(200, BatchResponseSchema, example=examples.batch_response_example())
@json_body_errors(blp, "The body is not an object with a `contacts` list.")
def post_batch():
    contacts = _contacts_of(read_json())
    live = current_storage().live.now()
    size = current_app.config["BATCH_CHUNK_LINES"]
    summary = rules.Summary()
    rejected = []
    tally = Counter()
    out = _ResponseSpool()
    out.write(b'{"verdicts":[')
    # The whole batch or none of it: committed when the response body is complete.
    with current_storage().decisions.transaction() as log:
        chunks = decided_chunks(
            contacts, size, live.policy, evaluated_at_now(), current_client(), current_regions(), live.shadow
        )
        for chunk, stored in log.record_chunks(chunks):
            summary.merge(answered_summary(chunk, stored))
            rejected.extend(chunk.rejected)
            tally += outcomes(chunk.entries, stored)
            out.write_records(stored)
        out.write(b'],"rejected":')
        out.write(orjson.dumps(rejected))
        out.write(b',"summary":')
        out.write(orjson.dumps(summary.to_dict()))
        out.write(b"}")
    count_outcomes(tally)
    if summary.rejected:
        REJECTED.inc(summary.rejected)
    return out.response()


class _ResponseSpool:
    """The batch response body: in memory, moved to a temporary file past 32 MB.

    A 100,000-line response is ~220 MB of JSON; held in memory next to the parsed request it would
    double a worker's peak. On disk it costs little, and gunicorn sends it with sendfile. A smaller
    one (10,000 lines: ~22 MB) is sent from memory. Not tempfile.SpooledTemporaryFile: gunicorn
    asks the body for a file descriptor, and asking one for it writes it to disk first."""

    SEND_BYTES = 1024 * 1024

    def __init__(self):
        self.file = io.BytesIO()
        self.on_disk = False
        self.records_written = False

    def write(self, data: bytes) -> None:
        self.file.write(data)
        if not self.on_disk and self.file.tell() > SPOOL_IN_MEMORY_BYTES:
            disk = tempfile.TemporaryFile()
            disk.write(self.file.getbuffer())
            self.file, self.on_disk = disk, True

    def write_records(self, texts: list[bytes]) -> None:
        """Add verdicts (JSON text) to the open `verdicts` array."""
        if not texts:
            return
        if self.records_written:
            self.write(b",")
        self.write(b",".join(texts))
        self.records_written = True

    def response(self) -> Response:
        size = self.file.tell()
        self.file.seek(0)
        body = wrap_file(request.environ, self.file) if self.on_disk else self._from_memory()
        response = Response(body, mimetype="application/json", direct_passthrough=True)
        response.content_length = size
        return response

    def _from_memory(self):
        buffer = self.file.getbuffer()
        try:
            for start in range(0, len(buffer), self.SEND_BYTES):
                yield buffer[start : start + self.SEND_BYTES].tobytes()
        finally:
            buffer.release()


def _contacts_of(body) -> list:
    """The `contacts` list of a batch body; 422 for any other shape, 413 over the line limit."""
    if not isinstance(body, dict):
        raise ProblemError(
            422, BATCH_SHAPE, errors={"_schema": ["Expected a JSON object with a `contacts` list."]}
        )
    errors = {key: ["Unknown field."] for key in body if key != "contacts"}
    contacts = body.get("contacts")
    if "contacts" not in body:
        errors["contacts"] = ["Missing data for required field."]
    elif not isinstance(contacts, list):
        errors["contacts"] = ["Not a valid list."]
    if errors:
        raise ProblemError(422, BATCH_SHAPE, errors=errors)
    limit = current_app.config["BATCH_MAX_LINES"]
    if len(contacts) > limit:
        raise RequestEntityTooLarge(
            f"A batch may hold at most {limit:,} contacts; this one has {len(contacts):,}. Split it."
        )
    return contacts
