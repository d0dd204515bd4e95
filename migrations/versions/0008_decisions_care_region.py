"""The contact's care_region as a column of decisions, with an index in evaluated_at order: a key
scoped to regions reads the decisions whose home_region or care_region is one of its regions
(issue 16), and finds those about care given in its regions by this index: of care given outside
the home region only (the rest is read by home_region's index), home_region last, so that those of
its own residents (read by home_region's index too) are set aside on the index entry.

Existing decisions get the care_region of their stored contact (every contact has one). SQLite
cannot make a column NOT NULL in place: the table is rebuilt (rows copied) once, as in 0004, which
drops its statistics, so the fixed statistics of 0005 and 0006 are written again with the new index's row
(the same as home_region's: about as many rows per value).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_decisions_care_region_evaluated"
OUT_OF_REGION = "home_region <> care_region"
# The fixed statistics of 0005 and 0006 (index: "rows in the table, rows per value of its first
# column, ..."), as they stood then: a migration does not change when later code does.
SQLITE_STATISTICS = {
    "ix_decisions_contact_evaluated": "1000000 2 1 1",
    "ux_decisions_chain": "1000000 2 2 2 1",
    "ix_decisions_tx": "1000000 10 1",
    "ix_decisions_region_evaluated": "1000000 50000 1 1 1",
    "ix_decisions_reason_evaluated": "1000000 100000 1 1 1",
    "ix_decisions_evaluated": "1000000 1 1 1",
}
CARE_REGION_STATISTICS = {INDEX: "1000000 50000 1 1 1 1"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("decisions", sa.Column("care_region", sa.String(2), nullable=True))
    if sqlite:
        op.execute("UPDATE decisions SET care_region = json_extract(contact, '$.care_region')")
        with op.batch_alter_table("decisions", recreate="always") as batch:
            batch.alter_column("care_region", existing_type=sa.String(2), nullable=False)
    else:
        op.execute("UPDATE decisions SET care_region = contact::json ->> 'care_region'")
        op.alter_column("decisions", "care_region", existing_type=sa.String(2), nullable=False)
    op.create_index(
        INDEX,
        "decisions",
        ["care_region", "evaluated_at", "seq", "contact_date", "home_region"],
        sqlite_where=sa.text(OUT_OF_REGION),
        postgresql_where=sa.text(OUT_OF_REGION),
    )
    if sqlite:
        _fix_sqlite_statistics({**SQLITE_STATISTICS, **CARE_REGION_STATISTICS})


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index(INDEX, table_name="decisions")
    if sqlite:
        with op.batch_alter_table("decisions", recreate="always") as batch:
            batch.drop_column("care_region")
        _fix_sqlite_statistics(SQLITE_STATISTICS)
    else:
        op.drop_column("decisions", "care_region")


def _fix_sqlite_statistics(statistics: dict[str, str]) -> None:
    op.execute("ANALYZE sqlite_schema")  # creates sqlite_stat1 if need be (reading no table of ours)
    op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'decisions'")
    for index, stat in statistics.items():
        op.execute(f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('decisions', '{index}', '{stat}')")
    op.execute("ANALYZE sqlite_schema")  # and reads them in
