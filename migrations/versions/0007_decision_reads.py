"""Audited reads: decision_reads, one row per response that returned decisions (who, when, which
endpoint and query, which decision ids), and decision_read_items, each of those decision ids with
its read, so that "who saw decision X" is one range of a primary key. Append-only (the service
never updates or deletes a row). New tables only: nothing is copied, quick on any log.

SQLite gets fixed statistics for the new indexes, as 0005 gives the decisions' (SQLite plans without
statistics unless ANALYZE runs): without them it takes a client's reads for as few as one
decision's, and for a client and a decision_id walks all of the client's reads. These say what a
large log holds: a client has many reads, a decision few.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer, "sqlite")

SQLITE_STATISTICS = {
    # (table, index): "rows in the table, rows per value of its first column, of its first two, ..."
    ("decision_reads", "ix_decision_reads_at"): "1000000 1 1",
    ("decision_reads", "ix_decision_reads_client"): "1000000 50000 1 1",
    # The primary key (decision_id, read_seq): SQLite names the index it makes for it so.
    ("decision_read_items", "sqlite_autoindex_decision_read_items_1"): "10000000 10 1",
}


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
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE sqlite_schema")  # creates sqlite_stat1 if missing (reading no table of ours)
        for (table, index), stat in SQLITE_STATISTICS.items():
            op.execute(f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('{table}', '{index}', '{stat}')")
        op.execute("ANALYZE sqlite_schema")  # and reads them in


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl IN ('decision_reads', 'decision_read_items')")
    op.drop_table("decision_read_items")
    op.drop_table("decision_reads")
