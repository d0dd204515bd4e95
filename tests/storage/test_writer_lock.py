"""SQLite writers queue on a file lock (api/storage/engine.py): held for exactly the length of a
write transaction, released after commit, rollback or error, so no writer waits on a dead one."""

import subprocess
import sys

import pytest

from api.storage.engine import make_engine, writing

PROBE = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "try:\n"
    "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "except BlockingIOError:\n"
    "    sys.exit(1)\n"
)


def _free(lock_path) -> bool:
    """Can another process take the writer lock right now?"""
    return subprocess.run([sys.executable, "-c", PROBE, str(lock_path)], timeout=30).returncode == 0


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/decisions.sqlite3")
    yield engine
    engine.dispose()


def test_lock_is_held_during_a_write_and_released_after_commit(engine, tmp_path):
    lock = tmp_path / "decisions.sqlite3-writer.lock"
    with writing(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        assert not _free(lock)
    assert _free(lock)


def test_lock_is_released_after_an_error_and_rollback(engine, tmp_path):
    lock = tmp_path / "decisions.sqlite3-writer.lock"
    with pytest.raises(RuntimeError), writing(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        raise RuntimeError("fails inside the transaction")
    assert _free(lock)
    with writing(engine) as conn:  # and the next writer proceeds
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")


def test_reads_do_not_take_the_lock(engine, tmp_path):
    with writing(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
        assert _free(tmp_path / "decisions.sqlite3-writer.lock")


def test_grouped_single_verdicts_release_the_lock_after_commit_and_after_an_error(tmp_path):
    from sqlalchemy.exc import IntegrityError

    from api.storage import Storage

    from .helpers import contact, pending

    lock = tmp_path / "d.sqlite3-writer.lock"
    storage = Storage.open(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        first = pending(contact("a"))
        storage.decisions.record_now([first])
        assert _free(lock)
        with pytest.raises(IntegrityError):  # a decision_id already stored
            storage.decisions.record_now([pending(contact("b"))._replace(decision_id=first.decision_id)])
        assert _free(lock)
        storage.decisions.record_now([pending(contact("c"))])  # on a new connection
        assert storage.decisions.count() == 2
    finally:
        storage.close()
