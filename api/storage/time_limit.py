"""A time limit on each statement the service runs: a runaway query is stopped and answered with a
503 (service.py) instead of holding a worker, and the writers behind it, for as long as it runs.

PostgreSQL: statement_timeout on each of the service's connections (time spent waiting for a lock
counts, and for a batch's COPY the time the worker takes to decide the next chunk: decision_log.py).
SQLite has no statement timeout: a progress handler, called every PROGRESS_STEPS steps of SQLite's
virtual machine, interrupts a statement running past the deadline set when it started. A statement
that waits for the write lock runs no steps meanwhile: that wait is bounded by busy_timeout
(engine.py), not by this limit. Migrations run without a limit (lift).
"""

import math
import time

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

# About a millisecond of SQLite's work between two looks at the clock: the look costs under 1 %.
PROGRESS_STEPS = 10_000
_DEADLINE = "utomlans.deadline"  # in the SQLite connection's info: when its statement must end
_UNLIMITED = "utomlans.unlimited"  # execution option of a connection that runs without a limit
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by statement_timeout


def postgresql_connect_args(ms: int) -> dict:
    return {"options": f"-c statement_timeout={ms}"}


def install_on_sqlite(engine: Engine, ms: int) -> None:
    seconds = ms / 1000

    def on_connect(dbapi_connection, record):
        info = record.info
        dbapi_connection.set_progress_handler(
            lambda: time.monotonic() > info.get(_DEADLINE, math.inf), PROGRESS_STEPS
        )

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        unlimited = conn.get_execution_options().get(_UNLIMITED, False)
        conn.info[_DEADLINE] = math.inf if unlimited else time.monotonic() + seconds

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "before_cursor_execute", on_statement)


def lift(conn: Connection) -> None:
    """No limit for the rest of this connection's transaction: a migration may take minutes."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
    else:
        conn.execution_options(**{_UNLIMITED: True})


def exceeded(error: Exception) -> bool:
    """Whether the database stopped the statement for running past the limit."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    return (
        getattr(orig, "sqlstate", None) == _QUERY_CANCELED
        or getattr(orig, "sqlite_errorname", None) == "SQLITE_INTERRUPT"
    )
