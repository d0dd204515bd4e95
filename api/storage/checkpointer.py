"""SQLite WAL checkpoints in a background thread, off the request path.

SQLite's automatic checkpoint runs inside the COMMIT of whichever transaction crosses the WAL size
limit: a 10,000-decision batch (~30 MB of WAL) would pay ~100 ms copying pages into the database
file before its response could leave. The connections of the service turn it off
(wal_autocheckpoint=0, api/storage/engine.py) and this thread, one per Storage, checkpoints every
second instead (PASSIVE: never waits for, nor blocks, readers and writers; the sqlite3 module
releases the GIL while it runs). Committed transactions are durable in the WAL either way; a
checkpoint only moves them into the main file so the WAL can start over.
"""

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    def __init__(self, path: str, interval: float = INTERVAL_SECONDS):
        self.path = path
        self.interval = interval
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
        """(busy, WAL frames, frames checkpointed) as SQLite reports them."""
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _run(self) -> None:
        connection = None
        try:
            while not self._stop.wait(self.interval):
                try:
                    if connection is None:
                        connection = sqlite3.connect(self.path, timeout=0, isolation_level=None)
                    self.checkpoint(connection)
                except sqlite3.Error as exc:  # busy, or the file is gone: try again next time
                    log.debug("WAL checkpoint of %s skipped: %s", self.path, exc)
        finally:
            if connection is not None:
                connection.close()
