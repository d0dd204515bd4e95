"""The policy in force with the database's contracts, rebuilt when the registry changes.

Every request calls current(). With a RegistryStamp (an SQLite database: every worker on one host)
that is a read of the shared change counter, and a primary-key read of registry_version only when
the counter moved or RECHECK_SECONDS passed; without one (PostgreSQL: workers may be on several
hosts) it is that database read every time. The contract book is rebuilt only when the version
moved. So a contract change reaches every worker with the very next request, without a restart.
"""

import threading
import time

from rules.policy import Policy

from .contract_registry import ContractRegistry
from .registry_stamp import RegistryStamp

# The database is read at least this often even when the stamp did not move: a change whose
# process died between its commit and the stamp is in force within this long.
RECHECK_SECONDS = 1.0


class LiveContracts:
    def __init__(self, registry: ContractRegistry, base: Policy, stamp: RegistryStamp | None = None):
        self.registry = registry
        self.base = base
        self.stamp = stamp
        self._version: int | None = None
        self._policy = base
        self._lock = threading.Lock()
        self._checked = (None, float("-inf"))  # (stamp, monotonic time) before the last read

    def current(self) -> Policy:
        if self.stamp is None:
            return self._from_database()
        seen, checked_at = self._checked
        stamp, now = self.stamp.read(), time.monotonic()  # before the database: a change after it
        if stamp == seen and now - checked_at < RECHECK_SECONDS:  # moves the stamp again
            return self._policy
        policy = self._from_database()
        self._checked = (stamp, now)
        return policy

    def _from_database(self) -> Policy:
        version = self.registry.version()
        if version == self._version:
            return self._policy
        with self._lock:
            if version != self._version:
                seen, book = self.registry.snapshot()
                self._policy = self.base.with_contracts(book)
                self._version = seen
            return self._policy
