"""A helper process per worker that decides chunks of large batches while the worker stores them.

Why: a batch is decided and stored by one request thread, and the GIL keeps it on one core (a
stored 10,000-line batch used one core fully while the other was nearly idle). Deciding a line
(parse, rules, verdict JSON, what the log keeps) costs about twice what storing it does, so the
helper decides most chunks and the worker stores all of them, in order, in the request's one
transaction. The helper only computes: it never touches the database, and when it is missing,
busy, slow or dead the worker decides the chunk itself, so no line depends on it.

    batch_helper.init_app(app)                      # in create_app
    for chunk in decided_chunks(contacts, policy, evaluated_at, client, recorded): ...

wire.py: the messages; policy_sync.py: the same policy on both sides; process.py: the worker's
side and the schedule; __main__.py: the helper.
"""

from collections.abc import Iterator

from flask import Flask, current_app

from ..batch_chunks import DecidedChunk
from . import wire
from .process import BatchHelper, local_chunks

EXTENSION = "utomlans.batch_helper"

__all__ = ["BatchHelper", "decided_chunks", "init_app", "start_early"]


def init_app(app: Flask) -> None:
    """The helper starts with the first batch of more than one chunk (under gunicorn: when the worker
    starts, see start_early) and stops with the worker."""
    helper = None
    if app.config["BATCH_HELPER"] and wire.supported():
        helper = BatchHelper(app.config.get("POLICY_DIR") or "", app.config["BATCH_CHUNK_LINES"])
    app.extensions[EXTENSION] = helper


def start_early(app: Flask) -> None:
    """Start the app's helper now (gunicorn's post_worker_init): the first batch can use it."""
    helper = app.extensions.get(EXTENSION)
    if helper is not None:
        helper.start()


def decided_chunks(
    contacts: list, policy, evaluated_at: str, client: str, recorded: bool
) -> Iterator[DecidedChunk]:
    """The batch's chunks, decided, in input order (the lines are let go as they are decided)."""
    size = current_app.config["BATCH_CHUNK_LINES"]
    helper = current_app.extensions.get(EXTENSION)
    if helper is not None and len(contacts) > size:
        return helper.chunks(contacts, policy, evaluated_at, client, recorded)
    return local_chunks(contacts, size, policy, evaluated_at, client, recorded)
