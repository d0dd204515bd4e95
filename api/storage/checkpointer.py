"""SQLite WAL checkpoints in a background thread, off the request path.

SQLite's automatic checkpoint runs inside the COMMIT of whichever transaction crosses the WAL size
limit: a 10,000-decision batch (~30 MB of WAL) would pay ~100 ms copying pages into the database
file before its response could leave. The connections of the service turn it off
(wal_autocheckpoint=0, api/storage/engine.py) and this thread, one per Storage, checkpoints
instead, every INTERVAL_SECONDS:

1. PASSIVE: copies what is in the WAL into the database file without waiting for, or blocking,
   anyone (the sqlite3 module releases the GIL while it runs).
2. The WAL only starts over when a writer begins right after a checkpoint that copied all of it.
   Under a steady stream of single verdicts some writer always appends while PASSIVE copies, so
   it never does, and the WAL grows without bound (500 MB after 3,500 single verdicts, with every
   page lookup slower for it). So the thread then takes the writer lock that every decision
   and contract transaction takes (engine.WriterLock) and runs a RESTART checkpoint: it copies
   only the frames written during step 1, and the next writer starts the WAL from the beginning.
   Writers queue for that short moment instead of for the whole copy.

One thread checkpoints a database at a time: every worker process has a Storage and so a thread,
and the thread holding a non-blocking flock on `<database>-checkpointer.lock` does the work while
the others only try for the lock each round (the kernel frees it when its holder dies, so another
takes over).

Committed transactions are durable in the WAL either way; a checkpoint only moves them into the
main file so the WAL can start over.
"""

import logging
import sqlite3
import threading

from .file_lock import LockFile

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
READER_WAIT_MS = 200  # RESTART waits this long for readers still on the old WAL (reads are short)


class WalCheckpointer:
    def __init__(self, path: str, writer_lock=None, interval: float = INTERVAL_SECONDS):
        self.path = path
        self.writer_lock = writer_lock
        self.interval = interval
        self._settled = None  # what the last RESTART that completed reported
        self._election = None  # the lock file of the election, kept open
        self._holding_election = False  # this thread holds the election lock (until it stops)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)

    def start(self) -> "WalCheckpointer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One round (steps 1 and 2 above); (busy, WAL frames, frames checkpointed) of the last step
        run, as SQLite reports them.

        PASSIVE reports the frames that were in the WAL when it started, so it cannot tell whether
        writers appended while it copied: step 2 runs unless nothing changed since the last
        RESTART (an idle database is not locked every round)."""
        result = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if self.writer_lock is not None and result[1] > 0 and result != self._settled:
            with self.writer_lock.held():
                result = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self._settled = result if result[0] == 0 else None
        return result

    def _elected(self) -> bool:
        """Whether this thread is (now) the one that checkpoints the database."""
        if self._election is None:
            self._election = LockFile(f"{self.path}-checkpointer.lock")
        if not self._holding_election:
            self._holding_election = self._election.try_acquire()
        return self._holding_election

    def _run(self) -> None:
        connection = None
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self._elected():
                        continue
                    if connection is None:
                        connection = sqlite3.connect(
                            self.path, timeout=READER_WAIT_MS / 1000, isolation_level=None
                        )
                    self.checkpoint(connection)
                except (sqlite3.Error, OSError) as exc:  # busy, or the file is gone: try again next time
                    log.debug("WAL checkpoint of %s skipped: %s", self.path, exc)
        finally:
            if connection is not None:
                connection.close()
            if self._election is not None:
                self._election.close()  # releases the election lock
