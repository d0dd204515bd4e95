"""Locks on files beside the SQLite database, shared by every worker process of one host.

flock queues waiters in the kernel (no polling) and frees a lock when its holder dies, even by
kill -9. Used for the writer lock (engine.WriterLock), the migration at start-up (migrate.py) and
the election of the one WAL checkpointer (checkpointer.py).
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
