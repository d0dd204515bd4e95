"""Storage plugged into the Flask app: the decision recorder, the policy with the database's
contracts, the /ready check, and 503 when the database cannot be reached.

A batch, issued in chunks, is recorded in one decision-log transaction opened at the first chunk
and committed after the view returns and before the response leaves (after_request): a request
that fails, or a worker killed midway, leaves nothing of it stored; a response with status >= 400
rolls it back. A single verdict is recorded whole (the recorder's `whole_request`) and committed
before the view goes on, in a transaction shared with the worker's concurrent single verdicts
(DecisionLog.record_now). Should the response then fail, the decision is stored but unanswered:
the client's retry of the same contact gets that decision back (idempotency), never a second one.

    from api.storage import service; service.init_app(app)   # in create_app, after policy_source
"""

import logging
import os

from flask import Flask, Response, current_app, g, request
from sqlalchemy import exc as sa_exc

from .. import issuing, policy_source, readiness
from ..problem import problem
from . import Storage, unreachable

EXTENSION = "utomlans.storage"
RETRY_AFTER_SECONDS = "5"
_TRANSACTION = "utomlans_decision_transaction"  # flask.g attribute: the request's open transaction
log = logging.getLogger("api.storage")


def init_app(app: Flask, storage: Storage | None = None) -> Storage:
    if storage is None:
        url = app.config.get("DATABASE_URL") or os.environ.get("DATABASE_URL") or None
        base = policy_source.EXTENSION in app.extensions and _base_policy(app)
        storage = Storage.open(url, base_policy=base or None)
    app.extensions[EXTENSION] = storage
    log.info("storage: %s", storage.describe())
    policy_source.set_policy_provider(app, storage.live.current)
    issuing.set_decision_recorder(app, _recorder(storage))
    app.after_request(_commit_decisions)
    app.teardown_request(_discard_decisions)
    readiness.add_readiness_check(app, "storage", _ready_check(storage))
    for error in unreachable.OUTAGES:
        app.register_error_handler(error, _unavailable)
    return storage


def current_storage() -> Storage:
    return current_app.extensions[EXTENSION]


def _base_policy(app: Flask):
    with app.app_context():
        return policy_source.current_policy()


def _ready_check(storage: Storage):
    def check():
        try:
            storage.ping()
        except sa_exc.DBAPIError as exc:
            raise readiness.NotReady(unreachable.reason(exc)) from exc

    return check


def _recorder(storage: Storage):
    def record(entries, whole_request=False):
        if whole_request and _TRANSACTION not in g:
            # Everything the request will issue: committed now, in one transaction with what other
            # requests of this worker store meanwhile (group_commit.py).
            return storage.decisions.record_now(entries)
        transaction = g.get(_TRANSACTION)
        if transaction is None:
            transaction = storage.decisions.begin()
            setattr(g, _TRANSACTION, transaction)
        # What is sent is the JSON text just stored (or stored before, for a repeat), as it is.
        return transaction.record(entries)

    return record


def _commit_decisions(response: Response) -> Response:
    """Store what the request issued before its response is sent; 503 instead if that fails."""
    transaction = g.pop(_TRANSACTION, None)
    if transaction is None:
        return response
    if response.status_code >= 400:
        transaction.rollback()
        return response
    try:
        transaction.commit()
    except unreachable.OUTAGES as exc:
        return _unavailable(exc)
    except sa_exc.DBAPIError as exc:
        from ..errors import internal_problem

        return internal_problem(exc)
    return response


def _discard_decisions(_error) -> None:
    """A request that ended without after_request (an error escaped every handler): roll back."""
    transaction = g.pop(_TRANSACTION, None)
    if transaction is not None:
        transaction.rollback()


def _unavailable(error):
    """The database is down or unreachable: nothing was decided or stored; try again shortly."""
    log.error(
        "storage unavailable on %s %s: %s",
        request.method,
        request.path,
        error.__class__.__name__,
        exc_info=error,
    )
    return problem(
        503,
        "The decision store cannot be reached, so nothing was decided. Try again shortly; /ready says "
        "when the service is back.",
        instance=request.path,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )
