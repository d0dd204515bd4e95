"""Engine setup from DATABASE_URL: an SQLite file by default (no setup), PostgreSQL when configured.

SQLite runs in WAL mode with synchronous=NORMAL: a committed transaction survives the crash or
kill -9 of any process (the WAL is written before COMMIT returns); only a power loss / OS crash
can lose the last transactions. PostgreSQL keeps its own defaults (fsync on commit).
"""

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

DEFAULT_SQLITE_PATH = Path("instance") / "utomlans.sqlite3"


def database_url(environ=os.environ) -> str:
    """DATABASE_URL if set; else an SQLite file at DATABASE_PATH or instance/utomlans.sqlite3.

    A plain postgresql:// URL is pointed at psycopg 3, the driver this project installs."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        path = Path(environ.get("DATABASE_PATH") or DEFAULT_SQLITE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path.resolve()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pool_pre_ping: a connection broken by a database restart is replaced on checkout, so the
    # service recovers by itself once the database is back.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
    )


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
