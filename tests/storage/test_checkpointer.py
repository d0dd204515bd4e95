"""SQLite: no checkpoint inside COMMIT; the Storage's background thread moves the WAL into the
database file instead, and stops with the Storage."""

from api.storage import Storage

from .helpers import contact, pending
from .pgserver import wait_until


def test_the_background_thread_checkpoints_and_commits_do_not(tmp_path):
    path = tmp_path / "log.sqlite3"
    storage = Storage.open(f"sqlite:///{path}")
    try:
        with storage.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
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
