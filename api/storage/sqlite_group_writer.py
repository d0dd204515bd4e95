"""The transactions of grouped single verdicts on SQLite, on one connection of the worker's own.

group_commit.py lets one request at a time per worker lead such a transaction, so one connection
kept for them is enough. It skips what a pooled SQLAlchemy connection costs per transaction (check
out, begin and commit events, check in: ~100 µs in process, against ~75 µs for what is stored),
and it keeps its page cache between transactions. It takes the same writer lock as every other
write transaction (engine.WriterLock: a flock on its own file descriptor, so it also queues behind
a batch of the same worker) and BEGIN IMMEDIATE; the lookups and the insert are decision_log's.
"""

import threading

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .decision_log import Transaction
from .engine import driver_errors


class SqliteGroupWriter:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = None  # the writer lock, on a file descriptor of this writer's own
        self._connection = None  # a pooled connection kept checked out, opened on first use
        self._mutex = threading.Lock()  # one leader per worker already; this makes it certain

    def record_groups(self, take):
        """GroupCommit's run: take() once the writer lock is held, so that the requests arriving
        while this worker waited for another's transaction go into this one."""
        with self._mutex:
            connection = self._open()
            with self._lock.held():
                try:
                    return self._transaction(connection, take())
                except DBAPIError:
                    self._drop()  # a broken connection is not reused; the next group opens another
                    raise

    def close(self) -> None:
        with self._mutex:
            self._drop()

    def _transaction(self, connection, groups):
        driver = connection.driver_connection
        dialect = self._engine.dialect
        with driver_errors("BEGIN IMMEDIATE", dialect):
            driver.execute("BEGIN IMMEDIATE")
        try:
            transaction = Transaction.on_sqlite_driver(driver, dialect)
            answers = [transaction.record(entries) for entries in groups]
            with driver_errors("COMMIT", dialect):
                driver.execute("COMMIT")
        except BaseException:
            if driver.in_transaction:
                with driver_errors("ROLLBACK", dialect):
                    driver.execute("ROLLBACK")
            raise
        return answers

    def _open(self):
        if self._lock is None:
            self._lock = self._engine.sqlite_writer_lock.holder()
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
