"""Audited reads: decision_reads, one row per response that returned decisions (who, when, which
endpoint and query, which decision ids), and decision_read_items, each of those decision ids with
its read, so that "who saw decision X" is one range of a primary key. Append-only (the service
never updates or deletes a row). New tables only: nothing is copied, quick on any log.

Revision ID: 0007
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "decision_reads",
        sa.Column("seq", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("decision_ids", sa.Text, nullable=False),
    )
    op.create_index("ix_decision_reads_at", "decision_reads", ["at", "seq"])
    op.create_index("ix_decision_reads_client", "decision_reads", ["client", "at", "seq"])
    op.create_table(
        "decision_read_items",
        sa.Column("decision_id", sa.String(36), primary_key=True),
        sa.Column(
            "read_seq", Serial, sa.ForeignKey("decision_reads.seq"), primary_key=True, autoincrement=False
        ),
    )


def downgrade() -> None:
    op.drop_table("decision_read_items")
    op.drop_table("decision_reads")
