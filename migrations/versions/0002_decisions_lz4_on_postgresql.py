"""PostgreSQL: compress the stored contact and verdict with lz4 instead of pglz.

Each decision row carries its verdict as issued (~3.5 KB of JSON), which PostgreSQL TOASTs and, by
default, compresses with pglz. While a batch is stored that compression was most of the server's work,
and the client waited on it; lz4 is several times faster at similar size. Only new values are affected;
SQLite has no such setting. Servers built without lz4 keep pglz.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = ("contact", "verdict")


def _lz4_available(bind) -> bool:
    values = bind.execute(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return bool(values) and "lz4" in values


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _lz4_available(bind):
        return
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE decisions ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _lz4_available(bind):
        return
    for column in _COLUMNS:
        op.execute(f"ALTER TABLE decisions ALTER COLUMN {column} SET COMPRESSION pglz")
