"""Decision log, contract registry with audit, and the registry version counter.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("seq", Serial, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(36), nullable=False, unique=True),
        sa.Column("idem_key", sa.String(64), nullable=False, unique=True),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("home_region", sa.String(2), nullable=False),
        sa.Column("contact_date", sa.Date, nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("amount_ore", sa.BigInteger, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.Column("layers", sa.Text, nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("supersedes", sa.String(36), nullable=True),
    )
    op.create_index("ix_decisions_contact", "decisions", ["contact_id", "home_region", "seq"])
    op.create_index("ix_decisions_region_evaluated", "decisions", ["home_region", "evaluated_at", "seq"])
    op.create_index("ix_decisions_evaluated", "decisions", ["evaluated_at", "seq"])
    op.create_index("ix_decisions_reason_evaluated", "decisions", ["reason", "evaluated_at", "seq"])
    op.create_index("ix_decisions_contact_date", "decisions", ["contact_date"])

    op.create_table(
        "contracts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("home_region", sa.String(2), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("tariff_sek", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("fictitious", sa.Boolean, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contracts_provider", "contracts", ["home_region", "provider_id"])

    op.create_table(
        "contract_audit",
        sa.Column("seq", Serial, primary_key=True, autoincrement=True),
        sa.Column("contract_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
    )
    op.create_index("ix_contract_audit_contract", "contract_audit", ["contract_id", "seq"])

    version = op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("registry_version")
    op.drop_index("ix_contract_audit_contract", "contract_audit")
    op.drop_table("contract_audit")
    op.drop_index("ix_contracts_provider", "contracts")
    op.drop_table("contracts")
    for name in (
        "ix_decisions_contact_date",
        "ix_decisions_reason_evaluated",
        "ix_decisions_evaluated",
        "ix_decisions_region_evaluated",
        "ix_decisions_contact",
    ):
        op.drop_index(name, "decisions")
    op.drop_table("decisions")
