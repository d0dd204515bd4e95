"""Decisions numbered per contact (`revision`, unique with contact_id and home_region, in place of the
unique index on the content's idem_key), and numbered commits for the decision feed (`tx` on each
decision, the decision_commits table).

A submission is now compared with its contact's newest decision only, so a return to earlier
content is a new decision: the idem_key index can no longer be unique. Existing decisions get
revisions 1, 2, 3... in the order they were stored (seq), and all belong to one commit, the first.

The backfill is an UPDATE ... FROM (SQLite 3.33 or later, as in every supported Python image).
SQLite cannot make a column NOT NULL in place: the table is rebuilt (rows copied) once, as in 0003.
A downgrade fails while the log holds a return to earlier content for a contact, which the schema
before could not hold.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer, "sqlite")
# The transaction every decision stored before this migration is counted in.
EARLIER_TX = "00000000-0000-0000-0000-000000000000"


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("decisions", sa.Column("revision", sa.Integer, nullable=True))
    op.add_column("decisions", sa.Column("tx", sa.String(36), nullable=True))
    op.execute(
        sa.text(
            "UPDATE decisions SET revision = numbered.revision, tx = :tx FROM ("
            "SELECT seq, row_number() OVER (PARTITION BY contact_id, home_region ORDER BY seq) AS revision "
            "FROM decisions) AS numbered WHERE numbered.seq = decisions.seq"
        ).bindparams(tx=EARLIER_TX)
    )
    op.drop_index("ux_decisions_contact_idem", table_name="decisions")
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("decisions", recreate="always") as batch:
            batch.alter_column("revision", existing_type=sa.Integer, nullable=False)
            batch.alter_column("tx", existing_type=sa.String(36), nullable=False)
    else:
        op.alter_column("decisions", "revision", existing_type=sa.Integer, nullable=False)
        op.alter_column("decisions", "tx", existing_type=sa.String(36), nullable=False)
    op.create_index(
        "ux_decisions_contact_revision", "decisions", ["contact_id", "home_region", "revision"], unique=True
    )
    op.create_index("ix_decisions_tx", "decisions", ["tx", "seq"])
    op.create_table(
        "decision_commits",
        sa.Column("position", Serial, primary_key=True, autoincrement=True),
        sa.Column("tx", sa.String(36), nullable=False, unique=True),
    )
    op.execute(
        sa.text(
            "INSERT INTO decision_commits (tx) SELECT :tx WHERE EXISTS (SELECT 1 FROM decisions)"
        ).bindparams(tx=EARLIER_TX)
    )


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_table("decision_commits")
    op.drop_index("ix_decisions_tx", table_name="decisions")
    op.drop_index("ux_decisions_contact_revision", table_name="decisions")
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("decisions", recreate="always") as batch:
            batch.drop_column("tx")
            batch.drop_column("revision")
    else:
        op.drop_column("decisions", "tx")
        op.drop_column("decisions", "revision")
    op.create_index(
        "ux_decisions_contact_idem", "decisions", ["contact_id", "home_region", "idem_key"], unique=True
    )
