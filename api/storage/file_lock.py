"""Locks on files beside the SQLite database, shared by every worker process of one host.

flock queues waiters in the kernel (no polling) and frees a lock when its holder dies, even by
kill -9. Used for the writer lock (engine.WriterLock, and the grouped single verdicts'
sqlite_group_writer.py), the migration at start-up (migrate.py) and the election of the one WAL
checkpointer (checkpointer.py).
"""

import fcntl
import os
from contextlib import contextmanager


def open_lock_file(path) -> int:
    """A new open file description of the lock file (created if missing): flock locks taken on
    different descriptions exclude each other, within one process too."""
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def exclusive_file_lock(path):
    """Hold the lock on `path` while the block runs, waiting for it first."""
    fd = open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class LockFile:
    """The lock file kept open by one holder that takes and lets go of the lock many times (a
    pooled connection, a worker's grouped transactions, the checkpointer's election): no open and
    close each time."""

    def __init__(self, path):
        self.fd = open_lock_file(path)

    def acquire(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def try_acquire(self) -> bool:
        """Take the lock if it is free now; whether it was."""
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    @contextmanager
    def held(self):
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        os.close(self.fd)  # releases the lock if held
