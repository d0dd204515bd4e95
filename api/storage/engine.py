"""Engine setup from DATABASE_URL: an SQLite file by default (no setup), PostgreSQL when configured.

SQLite runs in WAL mode with synchronous=FULL: COMMIT returns only once the WAL is on disk, so a
decision the client received survives kill -9 of any process and a power loss. Its automatic
checkpoint (every 1,000 WAL pages, in the committing connection) keeps the WAL bounded;
journal_size_limit gives the disk back after a large batch. Writers take the write lock at BEGIN
(BEGIN IMMEDIATE) and wait for one another through busy_timeout. PostgreSQL keeps its own
defaults (fsync on commit).

With `statement_timeout_ms` (the service passes its STATEMENT_TIMEOUT_MS) every statement is
stopped past that time (time_limit.py); tools and migrations run without a limit.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from rules.stored_policies import driver_url

from . import time_limit

DEFAULT_SQLITE_PATH = Path("instance") / "utomlans.sqlite3"
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
BUSY_TIMEOUT_MS = 30_000


def database_url(environ=os.environ) -> str:
    """DATABASE_URL if set; else an SQLite file at DATABASE_PATH or instance/utomlans.sqlite3.

    A plain postgresql:// URL is pointed at psycopg 3, the driver this project installs."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        path = Path(environ.get("DATABASE_PATH") or DEFAULT_SQLITE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path.resolve()}"
    return driver_url(url)


def make_engine(url: str | None = None, *, statement_timeout_ms: int | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        if statement_timeout_ms:
            time_limit.install_on_sqlite(engine, statement_timeout_ms)
        return engine
    # A pooled connection is replaced after 3 minutes, before proxies and load balancers close idle
    # ones (commonly after 4 to 10). A connection broken otherwise (a database restart) fails its
    # request with a 503, and SQLAlchemy then discards the whole pool, so the service recovers by
    # itself; a ping before every checkout would cost each request two more round trips.
    return create_engine(
        url,
        pool_recycle=180,
        pool_size=5,
        max_overflow=5,
        pool_timeout=5,
        connect_args={
            "connect_timeout": 3,
            **(time_limit.postgresql_connect_args(statement_timeout_ms) if statement_timeout_ms else {}),
        },
    )


def dialect_insert(engine: Engine):
    """The insert construct of the engine's dialect: both have on_conflict_do_nothing, which the
    generic one lacks (a row stored once, whoever stores it first)."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed when the block ends (rolled back if it raises).

    On SQLite it begins with BEGIN IMMEDIATE: a transaction that reads and then writes would
    otherwise fail at once with "database is locked" when another writer committed in between
    (busy_timeout cannot help there)."""
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        yield conn


def _sqlite_begin(conn):
    # pysqlite's own implicit BEGIN is switched off (isolation_level=None below): SQLAlchemy
    # emits it here, so transactions and savepoints behave as documented.
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record):
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # In a new database: a decision (~2.5 KB) would take a 4 KiB page of its own; 8 KiB hold three.
    cursor.execute("PRAGMA page_size=8192")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.close()
