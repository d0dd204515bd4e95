"""The policy in force with the database's contracts, rebuilt when the registry changes.

Every request calls current(): one primary-key read of the registry's version, and a rebuild of
the contract book only when that version moved. So a contract change made through any worker or
any instance on the same database is applied from the next request on, without a restart.
"""

import threading

from rules.policy import Policy

from .contract_registry import ContractRegistry


class LiveContracts:
    def __init__(self, registry: ContractRegistry, base: Policy):
        self.registry = registry
        self.base = base
        self._version: int | None = None
        self._policy = base
        self._lock = threading.Lock()

    def current(self) -> Policy:
        version = self.registry.version()
        if version == self._version:
            return self._policy
        with self._lock:
            if version != self._version:
                seen, book = self.registry.snapshot()
                self._policy = self.base.with_contracts(book)
                self._version = seen
            return self._policy
