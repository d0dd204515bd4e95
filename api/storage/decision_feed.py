"""The decision feed: every committed decision exactly once, in the order the feed finds them
committed, from a token on.

A reader that polls the log by evaluated_at misses decisions: a batch's decisions carry the moment
it started and become visible only when it commits, seconds later, behind decisions read since. And
on PostgreSQL the decisions' seq values are handed out as rows are inserted, not as their
transactions commit: a reader that had read up to seq 100 would never see a seq 90 committed after.

So commits are numbered, by the feed when it reads. Every transaction that stored decisions ends,
just before COMMIT, by inserting its row in decision_commits: its `position` is a ticket, taken
without waiting for any other writer. Before reading, the feed gives every commit it finds visible
and not yet numbered a `feed_position`, in ticket order, after the highest given so far
(feed_positions.py): one short write transaction, numberings one at a time, skipped when a read
finds nothing to number. It then reads decisions in (feed_position, seq) order after the token's.
SQLite has one writer at a time: there the writer numbers its own commit, under the write lock it
holds anyway, so a feed read never waits for that lock while a batch is open.

Why that order is safe:
- a commit that becomes visible after a numbering is numbered later, after it: nothing lands behind
  a reader's token; and nothing of a transaction still open is listed;
- a transaction that read another's decision (the newest of a chain, which it supersedes, or the one
  a racing insert waited for) took its ticket after that other committed, so a numbering that finds
  it finds the other numbered already or numbers it first: a superseded decision is always listed
  before the one that supersedes it.
Positions numbered before migration 0010 (in commit order, under a lock the writers took) are kept,
so old tokens read on.

A key scoped to regions reads the same order, keeping the decisions whose home_region or
care_region is one of its regions: a page reads at most SCAN decisions of the log, so it may hold
fewer than asked (none) while more follow, and its token moves past every decision read, so the
next page goes on from there. The tokens are the same: one works in any key's feed.
"""

import base64
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, Select, and_, bindparam, case, select, true
from sqlalchemy.engine import Engine

from .decision_log import MAX_PAGE, records_for
from .engine import writing
from .feed_positions import number_commits
from .page_cursor import LARGEST_SEQ
from .tables import decision_commits, decisions

_POSITION, _SEQ = bindparam("position", type_=BigInteger), bindparam("seq", type_=BigInteger)
_LIMIT = bindparam("limit", type_=Integer)


@dataclass(frozen=True)
class FeedPage:
    items: list[dict]
    next: str  # the token to pass as `after` for what follows


class DecisionFeed:
    def __init__(self, engine: Engine):
        self.engine = engine

    def page(self, after: str | None, limit: int = 100, regions: frozenset[str] | None = None) -> FeedPage:
        """Up to `limit` decisions committed after the token (from the start without one); the
        token for the next page, the one given when there is nothing new. `regions` (a scoped
        key's; None: every region): only decisions whose home or care region is one of them, of at
        most SCAN read. Raises ValueError for a malformed token."""
        position, seq = decode_token(after) if after else (0, 0)
        limit = max(1, min(limit, MAX_PAGE))
        postgresql = self.engine.dialect.name == "postgresql"
        self.number_the_commits()
        with self.engine.connect() as conn:
            if regions is None:
                query = _POSTGRESQL_PAGE if postgresql else _SQLITE_PAGE
                rows = conn.execute(query, {"position": position, "seq": seq, "limit": limit}).all()
                if rows:
                    position, seq = rows[-1].position, rows[-1].seq
                return FeedPage(records_for(conn, rows, None), encode_token(position, seq))
            query = _POSTGRESQL_SCAN if postgresql else _SQLITE_SCAN
            read = conn.execute(query, {"position": position, "seq": seq, "limit": SCAN}).all()
            kept = [row for row in read if row.home_region in regions or row.care_region in regions][:limit]
            last = kept[-1] if len(kept) == limit else (read[-1] if read else None)
            if last is not None:
                position, seq = last.position, last.seq
            if not kept:
                return FeedPage([], encode_token(position, seq))
            rows = conn.execute(select(decisions).where(decisions.c.seq.in_([row.seq for row in kept])))
            by_seq = {row.seq: row for row in rows}
            items = records_for(conn, [by_seq[row.seq] for row in kept], regions)
        return FeedPage(items, encode_token(position, seq))

    def number_the_commits(self) -> None:
        """Give every visible commit not yet numbered its feed_position, in ticket order, after the
        highest given so far; nothing (not even a write transaction) when there is none."""
        with self.engine.connect() as conn:
            if conn.execute(_UNNUMBERED).first() is None:
                return
        with writing(self.engine) as conn:
            number_commits(conn)


_UNNUMBERED = select(decision_commits.c.position).where(decision_commits.c.feed_position.is_(None)).limit(1)


def _sqlite_page(*columns) -> Select:
    """The commits from the token's on (by ux_decision_commits_feed_position), each one's decisions
    by ix_decisions_tx: SQLite's nested loop gives (feed_position, seq) order without a sort. (The
    order names the rowid too: SQLite takes a unique index on a column that may be NULL for one
    that may repeat a value, and would sort each commit's decisions, a whole batch, by seq.)"""
    c, d = decision_commits.c, decisions.c
    return (
        select(c.feed_position.label("position"), *columns)
        .select_from(decision_commits.join(decisions, and_(d.tx == c.tx, d.seq > _seq_after(c))))
        .where(c.feed_position >= _POSITION)
        .order_by(c.feed_position, c.position, d.seq)
        .limit(_LIMIT)
    )


def _postgresql_page(*columns) -> Select:
    """As on SQLite, each commit's decisions read in a LATERAL subquery of at most `limit` rows, so
    the sort by seq within a feed_position (PostgreSQL does not carry the order of the inner index scan
    through the join) sorts no more than a page, whatever the size of the batch."""
    c, d = decision_commits.c, decisions.c
    rows = (
        select(*columns).where(d.tx == c.tx, d.seq > _seq_after(c)).order_by(d.seq).limit(_LIMIT).lateral("d")
    )
    return (
        select(c.feed_position.label("position"), rows)
        .select_from(decision_commits.join(rows, true()))
        .where(c.feed_position >= _POSITION)
        .order_by(c.feed_position, rows.c.seq)
        .limit(_LIMIT)
    )


def _seq_after(c):
    """Within the token's commit, the decisions after its seq; all of every later commit's (one
    range of ix_decisions_tx either way)."""
    return case((c.feed_position == _POSITION, _SEQ), else_=0)


_SQLITE_PAGE = _sqlite_page(decisions)
_POSTGRESQL_PAGE = _postgresql_page(decisions)
# A scoped key's page: what it reads of the log (the regions to check, not the decisions' text).
SCAN = 10 * MAX_PAGE
_SCANNED = (decisions.c.seq, decisions.c.home_region, decisions.c.care_region)
_SQLITE_SCAN = _sqlite_page(*_SCANNED)
_POSTGRESQL_SCAN = _postgresql_page(*_SCANNED)


def encode_token(position: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"feed:{position}:{seq}".encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, int]:
    """The (position, seq) of a token encode_token wrote, and only of one (it is written back and
    compared, so no other spelling of it passes)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, position, seq = raw.split(":")
        values = int(position), int(seq)
        if (
            kind != "feed"
            or not 0 <= min(values) <= max(values) <= LARGEST_SEQ
            or encode_token(*values) != token
        ):
            raise ValueError
        return values
    except (ValueError, UnicodeDecodeError):
        raise ValueError("Not a token returned by this feed.") from None
