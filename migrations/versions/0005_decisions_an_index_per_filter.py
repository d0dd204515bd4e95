"""An index for every filter combination of GET /v1/decisions, and fixed statistics so that SQLite
picks the right one: (contact_id, evaluated_at, seq) is added, contact_date goes last in the
indexes read in evaluated_at order, its own index goes.

With a million decisions, contact_id with another filter walked the other filter's index in
evaluated_at order (seconds): the only index on contact_id, the unique index of the write path
(contact_id, home_region, revision), does not give that order. A contact_date range is checked on
the rows of the filter's index: with contact_date in the index entry, without reading each
decision (bench/decision_filters.py measures it). Its own index was no filter's best path (a range
on it has to be sorted), so it goes.

SQLite plans without statistics unless ANALYZE runs (the service never runs it), and then cannot
tell a contact_id from a home_region: for contact_id + home_region it walked the region's index, all
of a region's decisions. These are the statistics ANALYZE finds on a million decisions
(bench/decision_filters.py), rounded and fixed, as SQLite's documentation suggests ("Fixed Results
of ANALYZE"): how many rows share one value of an index's first column(s). A later ANALYZE replaces
them with the log's own, which rank the indexes alike. An index added later needs its row here too.

Building each index reads the table once (seconds per index at a million decisions; PostgreSQL
holds writes to the table meanwhile).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# name: (columns before, columns after); None: no such index
_INDEXES = {
    "ix_decisions_contact_date": (["contact_date"], None),
    "ix_decisions_contact_evaluated": (None, ["contact_id", "evaluated_at", "seq"]),
    "ix_decisions_region_evaluated": (
        ["home_region", "evaluated_at", "seq"],
        ["home_region", "evaluated_at", "seq", "contact_date"],
    ),
    "ix_decisions_reason_evaluated": (
        ["reason", "evaluated_at", "seq"],
        ["reason", "evaluated_at", "seq", "contact_date"],
    ),
    "ix_decisions_evaluated": (["evaluated_at", "seq"], ["evaluated_at", "seq", "contact_date"]),
}

SQLITE_STATISTICS = {
    # index: "rows in the table, rows per value of its first column, of its first two, ..."
    "ix_decisions_contact_evaluated": "1000000 2 1 1",
    "ux_decisions_contact_revision": "1000000 2 2 1",
    "ix_decisions_tx": "1000000 10 1",
    "ix_decisions_region_evaluated": "1000000 50000 1 1 1",
    "ix_decisions_reason_evaluated": "1000000 100000 1 1 1",
    "ix_decisions_evaluated": "1000000 1 1 1",
}


def upgrade() -> None:
    _replace(before=0, after=1)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE sqlite_schema")  # creates sqlite_stat1 (reading no table of ours)
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'decisions'")
        for index, stat in SQLITE_STATISTICS.items():
            op.execute(f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('decisions', '{index}', '{stat}')")
        op.execute("ANALYZE sqlite_schema")  # and reads them in


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'decisions'")
    _replace(before=1, after=0)


def _replace(before: int, after: int) -> None:
    for name, versions in _INDEXES.items():
        if versions[before] is not None:
            op.drop_index(name, table_name="decisions")
        if versions[after] is not None:
            op.create_index(name, "decisions", versions[after])
