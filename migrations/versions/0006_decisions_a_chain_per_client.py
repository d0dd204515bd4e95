"""A chain of decisions per client: revisions numbered per (client, contact_id, home_region), the
unique index ux_decisions_chain on (contact_id, home_region, client, revision) in place of
ux_decisions_contact_revision on (contact_id, home_region, revision).

Before, a contact's decisions formed one chain whoever sent them: another client's identical
submission became a new decision that named the first client's decision in `supersedes`, telling it
that decision's id. Now each client has its own chain, and what was stored is made to read so:

- Revisions are numbered anew 1, 2, 3... per (client, contact_id, home_region), in the order
  stored (seq). A decision's next submission from its client supersedes the newest of that
  client's chain.
- A decision whose `supersedes` names another client's decision now names the decision before it
  in its own chain, or null when it is the first of its chain; its stored verdict (the JSON a retry
  is answered with) is changed alike, so no retry hands out the other client's id again. The
  verdict's other members are left as they were. Supersessions within one client are kept as they
  are (they already name the decision before in that client's chain).

A downgrade numbers revisions per (contact_id, home_region) again; the `supersedes` changed above
stay changed (the schema before holds them as well).

SQLite: the fixed statistics of 0005 get a row for the new index (dropping the old index drops
its row). Building the index reads the table once (PostgreSQL holds writes to it meanwhile).

Revision ID: 0006
Revises: 0005
"""

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# name, columns, the fixed SQLite statistics for it (rows, rows per value of its first column(s),
# as in 0005)
_BEFORE = ("ux_decisions_contact_revision", ["contact_id", "home_region", "revision"], "1000000 2 2 1")
_AFTER = ("ux_decisions_chain", ["contact_id", "home_region", "client", "revision"], "1000000 2 2 2 1")


def upgrade() -> None:
    _replace(_BEFORE, _AFTER, ["client", "contact_id", "home_region"])
    _supersede_only_in_the_own_chain()


def downgrade() -> None:
    _replace(_AFTER, _BEFORE, ["contact_id", "home_region"])


def _replace(before: tuple, after: tuple, chain: list[str]) -> None:
    """Drop the index `before` (on SQLite its statistics go with it), number the revisions per
    `chain` by seq, create the index `after` with its statistics."""
    op.drop_index(before[0], table_name="decisions")
    op.execute(
        "UPDATE decisions SET revision = numbered.revision FROM ("
        f"SELECT seq, row_number() OVER (PARTITION BY {', '.join(chain)} ORDER BY seq) AS revision "
        "FROM decisions) AS numbered "
        "WHERE numbered.seq = decisions.seq AND numbered.revision <> decisions.revision"
    )
    op.create_index(after[0], "decisions", after[1], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('decisions', '{after[0]}', '{after[2]}')"
        )
        op.execute("ANALYZE sqlite_schema")  # reads them in


def _supersede_only_in_the_own_chain() -> None:
    """Each decision whose `supersedes` names another client's decision: the decision before it in
    its own chain instead (None for the first), in the column and in the stored verdict."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT d.seq, d.verdict, previous.decision_id AS previous FROM decisions AS d "
            "JOIN decisions AS superseded ON superseded.decision_id = d.supersedes "
            "LEFT JOIN decisions AS previous ON previous.contact_id = d.contact_id "
            "AND previous.home_region = d.home_region AND previous.client = d.client "
            "AND previous.revision = d.revision - 1 "
            "WHERE superseded.client <> d.client"
        )
    ).all()
    if not rows:
        return
    bind.execute(
        sa.text("UPDATE decisions SET supersedes = :previous, verdict = :verdict WHERE seq = :seq"),
        [
            {"seq": row.seq, "previous": row.previous, "verdict": _verdict(row.verdict, row.previous)}
            for row in rows
        ],
    )


def _verdict(text: str, previous: str | None) -> str:
    """The verdict JSON with `supersedes` set to `previous` as its last member, or without it (as the
    service writes a verdict, api/decision_entry.py)."""
    verdict = orjson.loads(text)
    verdict.pop("supersedes", None)
    if previous is not None:
        verdict["supersedes"] = previous
    return orjson.dumps(verdict).decode()
