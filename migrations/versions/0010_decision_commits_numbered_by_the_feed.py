"""Commits numbered by the feed when it reads (`feed_position`), no longer by the writers under a lock.

A writer's row in decision_commits keeps its `position`, now a ticket taken without waiting; the
feed gives each commit it finds visible its `feed_position` (api/storage/decision_feed.py). Every
row so far was numbered in commit order: its feed_position is its position, so a token handed out
before reads on from the same place. A unique index on feed_position: the feed's order, and its
check for commits not yet numbered (NULL, indexed too). A new column, no table rebuild.

A downgrade gives each commit its feed_position as position (two steps: positions stay unique
throughout), the commits not yet numbered after them in ticket order, so the earlier code reads in
the same order and tokens stay valid.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decision_commits", sa.Column("feed_position", sa.BigInteger, nullable=True))
    op.execute("UPDATE decision_commits SET feed_position = position")
    op.create_index("ux_decision_commits_feed_position", "decision_commits", ["feed_position"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_decision_commits_feed_position", table_name="decision_commits")
    op.execute("UPDATE decision_commits SET position = -position")
    op.execute(
        "UPDATE decision_commits SET position = numbered.position FROM ("
        "SELECT position AS ticket, coalesce(feed_position, "
        "(SELECT coalesce(max(feed_position), 0) FROM decision_commits) "
        "+ row_number() OVER (PARTITION BY feed_position IS NULL ORDER BY position DESC)) AS position "
        "FROM decision_commits) AS numbered WHERE decision_commits.position = numbered.ticket"
    )
    op.execute("ALTER TABLE decision_commits DROP COLUMN feed_position")  # in place on SQLite >= 3.35 too
