"""Engine setup from DATABASE_URL: an SQLite file by default (no setup), PostgreSQL when configured.

SQLite runs in WAL mode with synchronous=NORMAL: a committed transaction survives the crash or
kill -9 of any process (the WAL is written before COMMIT returns); only a power loss / OS crash
can lose the last transactions. PostgreSQL keeps its own defaults (fsync on commit).

SQLite tuning (a 10,000-contact batch writes ~30 MB; a single verdict dirties one page in each of
the decision table's 8 B-trees): 8 KiB pages in a new database (a ~2.5 KB decision row fits one to
a 4 KiB page, wasting a third; 8 KiB pages hold three, as fast for batches as 16 KiB pages, and a
single verdict's COMMIT writes half the WAL bytes of 16 KiB pages: ~70 against ~90 µs), a 32 MiB
page cache per connection (a batch's pages are not spilled to the WAL midway), and no automatic
checkpoint in COMMIT: Storage runs them in a background thread (checkpointer.py).
"""

import os
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .file_lock import LockFile, exclusive_file_lock

DEFAULT_SQLITE_PATH = Path("instance") / "utomlans.sqlite3"
# When the WAL starts over, a file grown past this (a 100,000-line batch writes ~300 MB) is cut
# back to it: disk is given back, and smaller WALs are reused without growing the file again.
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


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


def sqlite_file(engine: Engine) -> str | None:
    """The path of the engine's SQLite database file; None for PostgreSQL or an in-memory database
    (which has no files beside it: no writer lock, checkpointer, change counter or migration lock)."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        return None
    return database


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        database = sqlite_file(engine)
        if database:
            writer_lock = WriterLock(Path(f"{database}-writer.lock"))
            event.listen(engine, "commit", writer_lock.release)
            event.listen(engine, "rollback", writer_lock.release)
            event.listen(engine.pool, "checkin", writer_lock.release_connection)
            engine.sqlite_writer_lock = writer_lock
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


@contextmanager
def writing(engine: Engine):
    """A connection in a write transaction, committed at the end. On SQLite it starts with BEGIN
    IMMEDIATE: a transaction that reads and then writes would otherwise fail at once with
    "database is locked" when another writer committed in between (busy_timeout cannot help)."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def driver_errors(statement: str, dialect):
    """For code that talks to the driver directly: its errors leave wrapped as SQLAlchemy wraps them
    (OperationalError for a refused or lost connection, IntegrityError...), so the 503 handlers and
    /ready treat them like any other."""
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi_error) from exc


def _sqlite_begin(conn):
    # pysqlite's own implicit BEGIN is switched off (isolation_level=None below): SQLAlchemy
    # emits it here, so transactions and savepoints behave as documented.
    if conn.get_execution_options().get("sqlite_immediate"):
        lock = getattr(conn.engine, "sqlite_writer_lock", None)
        if lock is not None:
            lock.acquire(conn)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


class WriterLock:
    """One SQLite writer at a time across threads and worker processes, queued in the kernel.

    SQLite lets a blocked writer poll with growing sleeps (up to 100 ms each): under many
    concurrent single-verdict requests the write lock was often free while every waiter slept
    (p99 near 900 ms). A blocking flock on a file beside the database hands the lock over at
    once. Each pooled connection holds its own open file, so threads of one worker queue too."""

    def __init__(self, path: Path):
        self.path = path

    def acquire(self, conn) -> None:
        info = conn.connection.info
        lock = info.get("writer_lock")
        if lock is None:
            lock = info["writer_lock"] = self.holder()
        lock.acquire()
        info["writer_lock_held"] = True

    def release(self, conn) -> None:
        self._release(conn.connection.info)

    def release_connection(self, dbapi_connection, record) -> None:
        if record is not None:
            self._release(record.info)

    def held(self):
        """The lock on a file descriptor of its own, for a holder that is not a pooled connection
        (the WAL checkpointer): a context manager."""
        return exclusive_file_lock(self.path)

    def holder(self) -> LockFile:
        """The lock on a file descriptor kept open by one holder (a pooled connection, a worker's
        grouped transactions), which queues behind every other holder, in this process too."""
        return LockFile(self.path)

    @staticmethod
    def _release(info) -> None:
        if info.pop("writer_lock_held", False):
            info["writer_lock"].release()


def _sqlite_pragmas(dbapi_connection, _record):
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=8192")  # takes effect only in a new, empty database
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-32768")  # KiB
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.close()
