"""Durable storage for the service: the decision log and the contract registry (SQLAlchemy 2).

storage = Storage.open()          # DATABASE_URL or instance/utomlans.sqlite3; migrates and seeds
storage.decisions.record([...])   # before the response is sent
storage.feed.page(after, limit)   # every committed decision once, in the order found committed
storage.reads.record(...)         # who was sent which decisions (audited reads)
storage.live.current()            # the active policy version with the registry's contracts, as of now
storage.versions                  # the policy versions: stored, activated, audited
storage.shadow.now()              # what the version in shadow has seen (GET /v1/shadow)
"""

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine

import rules

from .contract_books import ContractBooks
from .contract_registry import ContractConflict, ContractNotFound, ContractOutOfRegion, ContractRegistry
from .decision_feed import DecisionFeed
from .decision_log import DecisionLog
from .engine import database_url, make_engine
from .live_policy import LivePolicy
from .migrate import upgrade
from .policy_versions import PolicyVersions, VersionInForce, VersionNotFound
from .read_audit import ReadAudit
from .shadow_report import ShadowReport

__all__ = [
    "ContractConflict",
    "ContractNotFound",
    "ContractOutOfRegion",
    "ContractRegistry",
    "DecisionFeed",
    "DecisionLog",
    "ContractBooks",
    "LivePolicy",
    "PolicyVersions",
    "ReadAudit",
    "ShadowReport",
    "Storage",
    "VersionInForce",
    "VersionNotFound",
    "database_url",
    "make_engine",
]

log = logging.getLogger(__name__)


class Storage:
    def __init__(self, engine: Engine, on_disk: rules.Policy | None = None):
        self.engine = engine
        self.decisions = DecisionLog(engine)
        self.feed = DecisionFeed(engine)
        self.reads = ReadAudit(engine)
        self.contracts = ContractRegistry(engine)
        self.versions = PolicyVersions(engine)
        self.books = ContractBooks(engine)
        self.live = LivePolicy(engine, self.contracts, self.versions, self.books)
        self.shadow = ShadowReport(engine, self.versions)
        # The policy files on disk (rules/policy or UTOMLANS_POLICY_DIR): registered as a version at
        # start; their contracts seed an empty registry.
        self.on_disk = on_disk or rules.default_policy()

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        on_disk: rules.Policy | None = None,
        prepare: bool = True,
        activate_on_disk: bool = False,
        statement_timeout_ms: int | None = None,
    ):
        """Connect; with prepare (the default) migrate to the newest schema, seed the sample
        contracts into a registry that never held any and register the on-disk policy (see
        prepare). With statement_timeout_ms, each statement (migrations aside) is stopped past that
        time (time_limit.py)."""
        storage = cls(make_engine(url, statement_timeout_ms=statement_timeout_ms), on_disk)
        if prepare:
            storage.prepare(activate_on_disk=activate_on_disk)
        return storage

    def prepare(self, activate_on_disk: bool = False) -> None:
        """Migrate, seed, and store the on-disk policy as a version if it is new. It is put in force
        on an empty database, or with activate_on_disk; otherwise the database's active version
        stays in force (a deployment puts a new version in force explicitly: README). Raises
        PolicyError if the version in force does not load with this engine."""
        upgrade(self.engine)
        seeded = self.contracts.seed_if_new(self.on_disk.contracts.contracts)
        if seeded:
            log.info("contract registry was empty: seeded %d contract(s) from rules/policy/contracts", seeded)
        digest = self.versions.register_on_disk(self.on_disk, activate=activate_on_disk)
        active = self.versions.state().active
        try:  # as a broken on-disk policy does: the start stops, before anything is served
            self.versions.policy(active)
        except rules.PolicyError as exc:
            raise rules.PolicyError(
                exc.file,
                exc.key,
                f"{exc.message} (version {active}, in force in the database, does not load with this "
                "release: put another in force with `python -m api.storage activate DIGEST`)",
            ) from None
        if active != digest:
            log.warning(
                "the policy files on disk are version %s (%s); version %s stays in force (activate "
                "it with POST /v1/policy-versions/%s/activate, or `python -m api.storage activate`)",
                digest[:12],
                self.versions.get(digest)["status"],  # a candidate, or retired since it was in force
                active[:12],
                digest,
            )

    def ping(self) -> None:
        """Raise (sqlalchemy.exc.DBAPIError) if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
