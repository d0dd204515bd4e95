"""The database schema as SQLAlchemy Core tables: the decision log and the contract registry.

Core, not ORM objects: the batch path stores 10,000 decisions per request with executemany.
The Alembic migrations under migrations/ create exactly these tables.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()
OUT_OF_REGION = "home_region <> care_region"  # the condition of ix_decisions_care_region_evaluated
SHADOWED = "shadow_version IS NOT NULL"  # the condition of ix_decisions_shadow

# The columns of the decision log's unique index: a chain (a client's decisions for one contact),
# then the number of each decision in it.
CHAIN_REVISION = ("contact_id", "home_region", "client", "revision")
CHAIN_INDEX = "ux_decisions_chain"

# Integer primary key on SQLite (the rowid: fast appends), BIGINT identity on PostgreSQL.
Serial = BigInteger().with_variant(Integer, "sqlite")

decisions = Table(
    "decisions",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("decision_id", String(36), nullable=False, unique=True),
    # sha256 of (contact_id, home_region, canonical contact JSON): a submission identical to the
    # newest decision of its chain gets that decision back.
    Column("idem_key", String(64), nullable=False),
    Column("contact_id", String(64), nullable=False),
    Column("home_region", String(2), nullable=False),
    # The contact's care_region (also in `contact`), a column so a region-scoped key's reads can
    # find the decisions about care given in its regions by an index.
    Column("care_region", String(2), nullable=False),
    # 1, 2, 3... per chain, a client's decisions for one contact (client, contact_id, home_region):
    # unique, so two transactions cannot both store the next decision of one chain (see
    # ux_decisions_chain).
    Column("revision", Integer, nullable=False),
    Column("contact_date", Date, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    # The contact as received, patient age reduced to its age group (SPEC section 8).
    Column("contact", Text, nullable=False),
    # The verdict exactly as sent to the client (SPEC section 6 JSON, decision_id and evaluated_at included).
    Column("verdict", Text, nullable=False),
    Column("policy_digest", String(64), nullable=False),
    Column("layers", Text, nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
    Column("client", String(64), nullable=False),
    Column("supersedes", String(36), nullable=True),
    # The policy version decided with (policy_versions), the contract book (contract_books) and,
    # while a shadow ran, the shadow version it was also decided under: NULL for decisions stored
    # before migration 0009.
    Column("policy_version", String(64), nullable=True),
    Column("contract_book", String(64), nullable=True),
    Column("shadow_version", String(64), nullable=True),
    # The transaction that stored the decision (a time-ordered UUID; decision_commits says when it
    # committed): the feed reads the decisions of each commit in turn through ix_decisions_tx.
    Column("tx", String(36), nullable=False),
    # The decision log's lookup (the newest decision of each chain); contact_id first, so one
    # contact's decisions, of every client, stay together.
    Index(CHAIN_INDEX, *CHAIN_REVISION, unique=True),
    Index("ix_decisions_tx", "tx", "seq"),
    # GET /v1/decisions, in its order (evaluated_at, seq): one index per filter combination
    # (decision_log.find_query): with contact_id, its index; else with home_region or reason, that
    # column's; else evaluated_at's. The other filters are checked on the rows the index yields
    # until a page is full; contact_date, last in the index, on the index entry itself (a
    # contact_date range alone reads far into the log: without it, every decision on the way). No
    # index on decision: of two values, it would shorten such a walk 2 to 3 times, and cost every write.
    Index("ix_decisions_contact_evaluated", "contact_id", "evaluated_at", "seq"),
    Index("ix_decisions_region_evaluated", "home_region", "evaluated_at", "seq", "contact_date"),
    # A key scoped to regions reads, without contact_id or home_region, the decisions of each of
    # its regions by home_region's index and by this one, merged (decision_log.find_query); here
    # those whose home_region is none of the key's. Only care given outside the home region (the
    # rest is read by home_region's index), and home_region last, checked on the index entry.
    Index(
        "ix_decisions_care_region_evaluated",
        "care_region",
        "evaluated_at",
        "seq",
        "contact_date",
        "home_region",
        sqlite_where=text(OUT_OF_REGION),
        postgresql_where=text(OUT_OF_REGION),
    ),
    Index("ix_decisions_reason_evaluated", "reason", "evaluated_at", "seq", "contact_date"),
    Index("ix_decisions_evaluated", "evaluated_at", "seq", "contact_date"),
    # GET /v1/shadow counts the decisions a shadow version saw.
    Index(
        "ix_decisions_shadow",
        "shadow_version",
        "evaluated_at",
        sqlite_where=text(SHADOWED),
        postgresql_where=text(SHADOWED),
    ),
)

# One row per committed write transaction that stored decisions. `position` is its ticket, taken
# by the transaction's last insert before COMMIT, without waiting for other writers;
# `feed_position` is given by the decision feed when it finds the commit visible (NULL until then),
# in ticket order after every position given before (api/storage/decision_feed.py). The feed reads
# decisions in (feed_position, seq) order.
decision_commits = Table(
    "decision_commits",
    metadata,
    Column("position", Serial, primary_key=True, autoincrement=True),
    Column("tx", String(36), nullable=False, unique=True),
    Column("feed_position", BigInteger, nullable=True),
    # The feed's order; also finds the commits not yet numbered (both databases index NULLs).
    Index("ux_decision_commits_feed_position", "feed_position", unique=True),
)

# Who read which decisions (api/storage/read_audit.py): one row per response that returned decisions
# (GET /v1/decisions/{id}, the list, the feed, a readjudication), written before it is sent. Append
# only: nothing in the service updates or deletes a row. GET /v1/access-log reads it in (at, seq)
# order: by ix_decision_reads_at, or ix_decision_reads_client for one client.
decision_reads = Table(
    "decision_reads",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("client", String(64), nullable=False),  # API key id, or "anonymous"
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),  # as a query string; "" for none
    Column("decision_ids", Text, nullable=False),  # JSON array, in the response's order
    Index("ix_decision_reads_at", "at", "seq"),
    Index("ix_decision_reads_client", "client", "at", "seq"),
)

# "Who saw decision X": each decision id of a read, found by the primary key's leading decision_id.
decision_read_items = Table(
    "decision_read_items",
    metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("read_seq", Serial, ForeignKey("decision_reads.seq"), primary_key=True, autoincrement=False),
)

contracts = Table(
    "contracts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("home_region", String(2), nullable=False),
    Column("provider_id", String(64), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("tariff_sek", Text, nullable=False),  # JSON {profession: "450.00"}
    Column("source", String(200), nullable=False),
    Column("fictitious", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_contracts_provider", "home_region", "provider_id"),
)

contract_audit = Table(
    "contract_audit",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("contract_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # seed, create, update, delete
    Column("actor", String(64), nullable=False),  # API key id, "anonymous" or "seed"
    Column("at", DateTime(timezone=True), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Index("ix_contract_audit_contract", "contract_id", "seq"),
)

# One row (id = 1). Every contract change bumps `version` in the same transaction, first thing:
# workers read it at most a second apart (live_policy.py) to know when to rebuild their contract
# book, and on PostgreSQL the row lock serialises contract changes so the overlap check cannot race.
registry_version = Table(
    "registry_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

# Policy versions (api/storage/policy_versions.py): each policy the service has decided with or
# may, immutable, addressed by the digest of its files (rules/policy_version.py). `status`:
# active (exactly one, once any is), candidate or retired. `overlay`: the JSON overlay a candidate
# was made from (with `base`, the version it was laid on), if it was.
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("files", Text, nullable=False),  # JSON {path: YAML text}
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("added_by", String(64), nullable=False),  # API key id, "anonymous" or "start"
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("base", String(64), nullable=True),
    Column("overlay", Text, nullable=True),
)

# Every change of policy: a version added, activated, put in or out of shadow. Append only.
policy_audit = Table(
    "policy_audit",
    metadata,
    Column("seq", Serial, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # add, activate, shadow, unshadow
    Column("digest", String(64), nullable=True),
    Column("previous", String(64), nullable=True),  # activate: the version in force before
    Column("note", Text, nullable=False),
)

# One row (id = 1): the version in force, the one in shadow (and since when), and a counter bumped
# by every change of either (a request that changes nothing bumps nothing): workers read it with the
# registry's version at most a second apart (live_policy.py), and its row lock (taken first thing)
# serialises activations.
policy_state = Table(
    "policy_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("active", String(64), nullable=True),
    Column("shadow", String(64), nullable=True),
    Column("shadow_since", DateTime(timezone=True), nullable=True),
    Column("changed", BigInteger, nullable=False),
)

# Each state of the contract registry a decision was made with, by ContractBook.digest: a decision
# is replayed with exactly the contracts it was decided with.
contract_books = Table(
    "contract_books",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("contracts", Text, nullable=False),  # JSON list of Contract.to_dict()
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

# A live decision the shadow version decided otherwise: what the shadow would have answered.
shadow_disagreements = Table(
    "shadow_disagreements",
    metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("shadow_version", String(64), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("verdict", Text, nullable=False),  # the shadow's verdict JSON
)
