"""One unique index on (contact_id, home_region, idem_key) in place of the unique idem_key and the
(contact_id, home_region, seq) index.

idem_key is a sha256, so its index took a random page for every stored decision: once the log
holds a few hundred thousand decisions, a 10,000-line batch dirtied most of that index's pages.
idem_key already includes contact_id and home_region, so the new index is as unique; it answers
both of the decision log's lookups (the stored decision for an identical contact, the newest
decision per contact: SQLite keeps the rowid, seq, in every index entry) and keeps one contact's
decisions together.

SQLite cannot drop a table's UNIQUE constraint: the table is rebuilt (rows copied) once, which takes a
while on a large log. The shipped gunicorn config runs the migrations in its master before any worker
starts; a bare `gunicorn 'api:create_app()'` migrates in a worker's start, within GUNICORN_TIMEOUT,
so with a large log run `python -m api.storage upgrade` first there (README).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Names for the constraints SQLite keeps unnamed, so that batch mode can drop one.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_decisions_contact", table_name="decisions")
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("decisions", recreate="always", naming_convention=_NAMING) as batch:
            batch.drop_constraint("uq_decisions_idem_key", type_="unique")
    else:
        op.drop_constraint("decisions_idem_key_key", "decisions", type_="unique")
    op.create_index(
        "ux_decisions_contact_idem", "decisions", ["contact_id", "home_region", "idem_key"], unique=True
    )


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ux_decisions_contact_idem", table_name="decisions")
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("decisions", recreate="always") as batch:
            batch.create_unique_constraint("uq_decisions_idem_key", ["idem_key"])
    else:
        op.create_unique_constraint("decisions_idem_key_key", "decisions", ["idem_key"])
    op.create_index("ix_decisions_contact", "decisions", ["contact_id", "home_region", "seq"])
