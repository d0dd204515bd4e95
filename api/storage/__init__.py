"""Durable storage for the service: the decision log and the contract registry (SQLAlchemy 2).

storage = Storage.open()          # DATABASE_URL or instance/utomlans.sqlite3; migrates and seeds
storage.decisions.record([...])   # before the response is sent
storage.feed.page(after, limit)   # every committed decision once, in commit order
storage.reads.record(...)         # who was sent which decisions (audited reads)
storage.live.current()            # the policy with the database's contracts, as of now
"""

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine

import rules

from .contract_registry import ContractConflict, ContractNotFound, ContractOutOfRegion, ContractRegistry
from .decision_feed import DecisionFeed
from .decision_log import DecisionLog
from .engine import database_url, make_engine
from .live_contracts import LiveContracts
from .migrate import upgrade
from .read_audit import ReadAudit

__all__ = [
    "ContractConflict",
    "ContractNotFound",
    "ContractOutOfRegion",
    "ContractRegistry",
    "DecisionFeed",
    "DecisionLog",
    "LiveContracts",
    "ReadAudit",
    "Storage",
    "database_url",
    "make_engine",
]

log = logging.getLogger(__name__)


class Storage:
    def __init__(self, engine: Engine, base_policy: rules.Policy | None = None):
        self.engine = engine
        self.decisions = DecisionLog(engine)
        self.feed = DecisionFeed(engine)
        self.reads = ReadAudit(engine)
        self.contracts = ContractRegistry(engine)
        self.live = LiveContracts(self.contracts, base_policy or rules.default_policy())

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        base_policy: rules.Policy | None = None,
        prepare: bool = True,
        statement_timeout_ms: int | None = None,
    ):
        """Connect; with prepare (the default) migrate to the newest schema and seed the sample
        contracts into a registry that never held any. With statement_timeout_ms, each statement
        (migrations aside) is stopped past that time (time_limit.py)."""
        storage = cls(make_engine(url, statement_timeout_ms=statement_timeout_ms), base_policy)
        if prepare:
            storage.prepare()
        return storage

    def prepare(self) -> None:
        upgrade(self.engine)
        seeded = self.contracts.seed_if_new(self.live.base.contracts.contracts)
        if seeded:
            log.info("contract registry was empty: seeded %d contract(s) from rules/policy/contracts", seeded)

    def ping(self) -> None:
        """Raise (sqlalchemy.exc.DBAPIError) if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
