"""SQLite: no checkpoint inside COMMIT; the Storage's background thread moves the WAL into the
database file instead, and stops with the Storage."""

import sqlite3
import time

from api.storage import Storage
from api.storage.checkpointer import WalCheckpointer

from .helpers import contact, pending
from .pgserver import wait_until


def test_the_background_thread_checkpoints_and_commits_do_not(tmp_path):
    path = tmp_path / "log.sqlite3"
    storage = Storage.open(f"sqlite:///{path}")
    try:
        with storage.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 8192
        storage._checkpointer.stop()  # nothing checkpoints now: the WAL must keep the commit
        size_before = path.stat().st_size
        storage.decisions.record([pending(contact(f"wal-{i}")) for i in range(200)])
        wal = tmp_path / "log.sqlite3-wal"
        assert wal.stat().st_size > 0 and path.stat().st_size == size_before

        with storage.engine.connect() as conn:
            busy, frames, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert busy == 0 and frames > 0  # the 200 decisions were all in the WAL
    finally:
        storage.close()


def test_a_running_storage_checkpoints_within_seconds(tmp_path):
    path = tmp_path / "log.sqlite3"
    storage = Storage.open(f"sqlite:///{path}")
    try:
        size_before = path.stat().st_size
        storage.decisions.record([pending(contact(f"bg-{i}")) for i in range(200)])
        assert wait_until(lambda: path.stat().st_size > size_before, timeout=10)
        thread = storage._checkpointer._thread
    finally:
        storage.close()
    assert not thread.is_alive()


class _ReaderEndsAfterPassive:
    """The checkpointer's connection, on which `reader` (a read transaction at an older snapshot)
    ends right after the PASSIVE checkpoint: that checkpoint could not copy the frames committed
    after the reader's snapshot, as when writers append while it copies."""

    def __init__(self, connection, reader):
        self.connection, self.reader = connection, reader

    def execute(self, sql):
        cursor = self.connection.execute(sql)
        if "PASSIVE" in sql:
            row = cursor.fetchone()
            self.reader.execute("COMMIT")
            return _Row(row)
        return cursor


class _Row:
    def __init__(self, row):
        self.row = row

    def fetchone(self):
        return self.row


def test_a_checkpoint_lets_the_wal_start_over_although_it_could_not_copy_all_of_it(tmp_path):
    """Without the RESTART step under the writer lock, the WAL never started over under steady
    single-verdict traffic (some writer always appended while PASSIVE copied) and kept every
    commit: 500 MB after 3,500 single verdicts."""
    path = tmp_path / "log.sqlite3"
    storage = Storage.open(f"sqlite:///{path}")
    storage._checkpointer.stop()
    entries = iter(pending(contact(f"steady-{i}")) for i in range(200))
    connection = sqlite3.connect(path, isolation_level=None)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        for _ in range(100):
            storage.decisions.record([next(entries)])
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM decisions").fetchone()
        storage.decisions.record([next(entries)])  # after the reader's snapshot
        checkpointer = WalCheckpointer(str(path), storage.engine.sqlite_writer_lock)
        busy, frames, done = checkpointer.checkpoint(_ReaderEndsAfterPassive(connection, reader))
        assert (busy, done) == (0, frames)
        storage.decisions.record([next(entries)])  # the next writer starts the WAL over
        _, frames, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        reader.close()
        connection.close()
        storage.close()
    assert 0 < frames < 20  # the last commit's pages only (one per B-tree), not 102 commits'


def test_one_thread_per_database_checkpoints(tmp_path):
    """Every gunicorn worker has a Storage, hence a checkpointer thread: one of them is elected, and
    another takes over when it stops."""
    path = tmp_path / "log.sqlite3"
    storages = [Storage.open(f"sqlite:///{path}"), Storage.open(f"sqlite:///{path}")]

    def elected():
        return [s for s in storages if s._checkpointer._holding_election]

    try:
        assert wait_until(lambda: elected(), timeout=5)
        time.sleep(3 * storages[0]._checkpointer.interval)  # both have tried a few rounds by now
        (winner,) = elected()
        winner.close()
        storages.remove(winner)
        assert wait_until(lambda: elected() == storages, timeout=5)
    finally:
        for storage in storages:
            storage.close()
