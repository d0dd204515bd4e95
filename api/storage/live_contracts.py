"""The policy in force with the database's contracts, rebuilt when the registry changes.

Every request calls current(): one primary-key read of registry_version; the contract book is
rebuilt only when that number moved. So a contract change reaches every worker with the very
next request, without a restart.
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
