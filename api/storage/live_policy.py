"""The policy in force, as of the current request: the active version with the registry's contracts.

now() answers from what it built last while that was checked less than RECHECK_SECONDS ago and
this process has changed neither the registry nor the policy state since. Otherwise it reads the
registry's version and the policy state's change counter (one primary-key read) and rebuilds only
when either moved. So a contract change, an activation or a shadow put on or off applies from the
next request in the worker that made it, and within a second in every other worker and instance
on the same database, without a restart (issue 14 allows a second; reading the counters on every
request cost a quarter of a stored single verdict's CPU). The contract book decided with is stored
before it is used (contract_books.py), so every decision's book can be found again.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Engine

from rules.errors import PolicyError
from rules.policy import Policy

from .contract_books import ContractBooks
from .contract_registry import ContractRegistry
from .policy_versions import PolicyVersions
from .tables import policy_state, registry_version

log = logging.getLogger(__name__)
RECHECK_SECONDS = 1.0
_CHANGES = select(
    select(registry_version.c.version).where(registry_version.c.id == 1).scalar_subquery(),
    select(policy_state.c.changed).where(policy_state.c.id == 1).scalar_subquery(),
)


class Live(NamedTuple):
    policy: Policy  # the active version, with the registry's contracts
    shadow: Policy | None  # the version in shadow, with the same contracts; None: no shadow
    unloadable: str | None = None  # the version in shadow, when this release cannot load it


class LivePolicy:
    def __init__(
        self,
        engine: Engine,
        registry: ContractRegistry,
        versions: PolicyVersions,
        books: ContractBooks,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.engine = engine
        self.clock = clock
        self.registry = registry
        self.versions = versions
        self.books = books
        self._seen: tuple | None = None
        self._live: Live | None = None
        self._lock = threading.Lock()
        # This process's own changes, and until when the last read of the counters holds.
        self._local: tuple | None = None
        self._fresh_until = 0.0

    def current(self) -> Policy:
        return self.now().policy

    def shadow_warning(self) -> str | None:
        """GET /ready's `shadow` check: a version in shadow this release cannot load is a warning,
        not a failure, since decisions are made without it; an operator ends that shadow."""
        digest = self.now().unloadable
        if digest is None:
            return None
        return (
            f"the version in shadow, {digest[:12]}, cannot be loaded by this release: decisions are made "
            "without it (DELETE /v1/shadow ends it)"
        )

    def now(self) -> Live:
        local = (self.registry.changes, self.versions.changes)
        if local == self._local and self.clock() < self._fresh_until:
            return self._live
        checked = self.clock()
        seen = self._changes()
        if seen != self._seen:
            with self._lock:
                if seen != self._seen:
                    state = self.versions.state()
                    registry_seen, book = self.registry.snapshot()
                    self.books.keep(book)
                    policy = self.versions.policy(state.active).with_contracts(book)
                    shadow = self._shadow(state.shadow, book) if state.shadow else None
                    unloadable = state.shadow if shadow is None else None
                    self._live = Live(policy, shadow, unloadable)
                    # What was read, not `seen`: a change committed in between only rebuilds once more.
                    self._seen = (registry_seen, state.changed)
        self._local, self._fresh_until = local, checked + RECHECK_SECONDS
        return self._live

    def _shadow(self, digest: str, book) -> Policy | None:
        """The version in shadow, or None when today's engine cannot load it (PUT /v1/shadow checks
        it, a later release of the engine may not): a shadow never fails a live request."""
        try:
            return self.versions.policy(digest).with_contracts(book)
        except PolicyError as exc:
            log.error(
                "the version in shadow, %s, cannot be loaded; deciding without it: %s", digest[:12], exc
            )
            return None

    def _changes(self) -> tuple:
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":  # no BEGIN and ROLLBACK round trips around it
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        with conn:
            return tuple(conn.execute(_CHANGES).one())
