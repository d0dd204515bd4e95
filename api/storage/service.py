"""Storage plugged into the Flask app: the Storage every view reaches with current_storage(), the
/ready check, and 503 when the database cannot be reached.

    from api.storage import service; service.init_app(app)   # in create_app
"""

import logging
import os

from flask import Flask, current_app, request
from sqlalchemy import exc as sa_exc

import rules

from .. import readiness
from ..problem import problem
from . import Storage, time_limit, unreachable

EXTENSION = "utomlans.storage"
RETRY_AFTER_SECONDS = "5"
_CONCURRENCY_FAILURES = ("40P01", "40001")  # PostgreSQL: deadlock detected, serialization failure
log = logging.getLogger("api.storage")


def init_app(app: Flask, on_disk: rules.Policy) -> Storage:
    """Open (and migrate) the database of DATABASE_URL, or the default SQLite file; `on_disk` is the
    policy of the policy files, registered as a version (Storage.prepare)."""
    url = app.config.get("DATABASE_URL") or os.environ.get("DATABASE_URL") or None
    storage = Storage.open(
        url,
        on_disk=on_disk,
        activate_on_disk=app.config["ACTIVATE_POLICY_ON_START"],
        statement_timeout_ms=app.config["STATEMENT_TIMEOUT_MS"],
    )
    app.extensions[EXTENSION] = storage
    log.info("storage: %s", storage.describe())
    readiness.add_readiness_check(app, "storage", _ready_check(storage))
    readiness.add_readiness_check(app, "shadow", storage.live.shadow_warning)
    for error in unreachable.OUTAGES:
        app.register_error_handler(error, _unavailable)
    return storage


def current_storage() -> Storage:
    return current_app.extensions[EXTENSION]


def _ready_check(storage: Storage):
    def check():
        try:
            storage.ping()
        except sa_exc.DBAPIError as exc:
            raise readiness.NotReady(unreachable.NOT_REACHABLE) from exc  # the driver's words: logged

    return check


def _unavailable(error):
    """The database is down or unreachable, or stopped a statement past the time limit: no
    decision was answered; sending again is safe."""
    log.error(
        "storage unavailable on %s %s: %s",
        request.method,
        request.path,
        error.__class__.__name__,
        exc_info=error,
    )
    if time_limit.exceeded(error):
        limit_ms = current_app.config["STATEMENT_TIMEOUT_MS"]
        return problem(
            503,
            f"The database did not answer within the service's limit of {limit_ms} ms "
            "for one statement, so the request was stopped and nothing it asked for was stored. A search "
            "answers sooner with narrower filters (contact_id, home_region, a shorter time range); a "
            "decision request can be sent again: identical content gets the same decision.",
            instance=request.path,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if getattr(getattr(error, "orig", None), "sqlstate", None) in _CONCURRENCY_FAILURES:
        return problem(
            503,
            "The request collided with a concurrent one and was rolled back; no decision was answered. "
            "Send it again: identical content gets the same decision.",
            instance=request.path,
            headers={"Retry-After": "1"},
        )
    return problem(
        503,
        "The decision store cannot be reached, so no decision was answered (one may have been stored "
        "as the connection broke). Send the request again shortly: identical content gets the same "
        "decision. /ready says when the service is back.",
        instance=request.path,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )
