"""Feed positions: the commits not yet numbered get theirs, in ticket order (decision_commits'
`position`), after the highest given so far. Why that order is safe: decision_feed.py."""

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

# PostgreSQL advisory lock held by a numbering until its commit is visible (an arbitrary constant,
# "feed"; the migrations take another).
COMMIT_LOCK = 0x66656564

# One statement (PostgreSQL: READ COMMITTED, so it sees every numbering committed before the lock).
_NUMBER = text(
    "UPDATE decision_commits SET feed_position = numbered.feed_position FROM ("
    "SELECT position, (SELECT coalesce(max(feed_position), 0) FROM decision_commits) "
    "+ row_number() OVER (ORDER BY position) AS feed_position "
    "FROM decision_commits WHERE feed_position IS NULL) AS numbered "
    "WHERE decision_commits.position = numbered.position"
)


def number_commits(conn: Connection) -> None:
    """Number the commits `conn` sees unnumbered, inside its write transaction, one numbering at a
    time: on PostgreSQL under COMMIT_LOCK, released only once this transaction's commit is visible,
    so the next numbering sees these positions; SQLite's write lock (BEGIN IMMEDIATE) does that."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(COMMIT_LOCK)))
    conn.execute(_NUMBER)
