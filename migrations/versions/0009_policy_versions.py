"""Policy versions (issue 17): every policy the service decides with is stored, addressed by the
digest of its files; the database says which one is in force (policy_state) and keeps who put
which version in force, when (policy_audit). Contract books: each state of the contract registry
decisions were made with, by digest. A shadow version's disagreements with live decisions.

Each decision names its policy version, its contract book and, while a shadow ran, the shadow
version: new nullable columns (decisions made before this revision have none), so SQLite adds them
in place (no table rebuild, the fixed statistics stay).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer, "sqlite")
SHADOWED = "shadow_version IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("base", sa.String(64), nullable=True),
        sa.Column("overlay", sa.Text, nullable=True),
    )
    op.create_table(
        "policy_audit",
        sa.Column("seq", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("previous", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "policy_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("active", sa.String(64), nullable=True),
        sa.Column("shadow", sa.String(64), nullable=True),
        sa.Column("shadow_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO policy_state (id, active, shadow, shadow_since, changed) VALUES (1, NULL, NULL, NULL, 0)"
    )
    op.create_table(
        "contract_books",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("contracts", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "shadow_disagreements",
        sa.Column("decision_id", sa.String(36), primary_key=True),
        sa.Column("shadow_version", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("amount_ore", sa.BigInteger, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
    )
    op.add_column("decisions", sa.Column("policy_version", sa.String(64), nullable=True))
    op.add_column("decisions", sa.Column("contract_book", sa.String(64), nullable=True))
    op.add_column("decisions", sa.Column("shadow_version", sa.String(64), nullable=True))
    op.create_index(
        "ix_decisions_shadow",
        "decisions",
        ["shadow_version", "evaluated_at"],
        sqlite_where=sa.text(SHADOWED),
        postgresql_where=sa.text(SHADOWED),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE sqlite_schema")
        stat = "'decisions', 'ix_decisions_shadow', '1000000 100000 1'"  # as 0005's: a large log
        op.execute(f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ({stat})")
        op.execute("ANALYZE sqlite_schema")


def downgrade() -> None:
    op.drop_index("ix_decisions_shadow", table_name="decisions")
    for column in ("shadow_version", "contract_book", "policy_version"):  # in place on SQLite >= 3.35 too
        op.execute(f"ALTER TABLE decisions DROP COLUMN {column}")
    for table in (
        "shadow_disagreements",
        "contract_books",
        "policy_state",
        "policy_audit",
        "policy_versions",
    ):
        op.drop_table(table)
