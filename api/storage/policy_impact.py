"""What a policy version would change in the stored decision log: the newest decision of each
contact in a period, decided again under the version with the contracts it was decided with
(rules/simulation/impact.py counts).

"Newest per contact" is re-adjudication's: one decision per (contact_id, home_region), whichever
client sent it, the latest by (evaluated_at, seq) among the decisions selected, so money is not
counted twice. The decisions are read in pages of PAGE in (evaluated_at, seq) order, each page a
statement of its own that starts after the last row of the one before (by the index of that order,
or home_region's): no statement runs long, so the service's statement time limit holds however
large the log, memory stays bounded, and nothing holds a snapshot of the log for the whole run. A
decision whose contact has a newer one in the selection is left out by the statement itself (NOT
EXISTS, a probe of the contact's index). Decisions stored while a run reads count as of when their
page is read: for an exact answer, end the period (`evaluated_to`) in the past.

Each decision names its contract book (decisions.contract_book): the version is given those
contracts, each book read once. Decisions stored before migration 0009 name none; they are decided
with the registry's contracts as they are now and counted under `without_contract_book`.
"""

import logging
import time
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, literal, select, tuple_

from rules.simulation.impact import Impact

from .decision_log import period_conditions
from .tables import decisions

PAGE = 5000
PROGRESS_EVERY = 100_000  # decisions between two progress lines in the log
log = logging.getLogger("api.storage.policy_impact")
_READ = ("seq", "contact", "decision", "reason", "amount_ore", "contract_book")


class Selection(NamedTuple):
    """Which decisions: those matching every filter given (None: any)."""

    evaluated_from: datetime | None = None
    evaluated_to: datetime | None = None
    contact_date_from: date | None = None
    contact_date_to: date | None = None
    home_region: str | None = None


EVERY = Selection()


class Run(NamedTuple):
    digest: str
    impact: Impact
    without_contract_book: int  # decided with today's registry: no book stored (before 0009)

    def to_dict(self) -> dict:
        return {
            "digest": self.digest,
            **self.impact.to_dict(),
            "without_contract_book": self.without_contract_book,
        }


def impact(storage, digest: str, selection: Selection = EVERY, *, page: int = PAGE) -> Run:
    """The impact of the stored version `digest` on the decisions selected (raises VersionNotFound,
    or PolicyError for a version today's engine cannot load)."""
    candidate = storage.versions.policy(digest)
    result = Impact(digest[:12])
    # contract book digest -> (the candidate with those contracts, whether they are today's instead)
    with_book: dict[str | None, tuple] = {}
    without_book = read = 0
    began = time.monotonic()
    log.info("impact of version %s: started (%s)", digest[:12], _shown(selection))
    for row in newest_decisions(storage.engine, selection, page=page):
        held = with_book.get(row.contract_book)
        if held is None:
            book = storage.books.get(row.contract_book) if row.contract_book is not None else None
            if book is None:  # decided before migration 0009 (no book named): the registry as it is now
                held = (candidate.with_contracts(storage.contracts.snapshot()[1]), True)
            else:
                held = (candidate.with_contracts(book), False)
            with_book[row.contract_book] = held
        policy, as_now = held
        without_book += as_now
        result.add(row.contact, (row.decision, row.reason, row.amount_ore), policy)
        read += 1
        if read % PROGRESS_EVERY == 0:
            log.info("impact of version %s: %d decisions, %.0f/s", digest[:12], read, _rate(read, began))
    log.info(
        "impact of version %s: done, %d decisions in %.1f s (%.0f/s)",
        digest[:12],
        read,
        time.monotonic() - began,
        _rate(read, began),
    )
    return Run(digest, result, without_book)


def newest_decisions(engine, selection: Selection, *, page: int = PAGE):
    """The newest selected decision of each contact, oldest first, read page by page."""
    d, n = decisions.c, decisions.alias("n").c
    newer = select(literal(1)).where(
        n.contact_id == d.contact_id,
        n.home_region == d.home_region,
        tuple_(n.evaluated_at, n.seq) > tuple_(d.evaluated_at, d.seq),
        *_selected(n, selection),
    )
    query = (
        select(*(d[name] for name in _READ))
        .where(*_selected(d, selection), ~newer.exists())
        .order_by(d.evaluated_at, d.seq)
        .limit(page)
    )
    # The next page: after the last row, by its (evaluated_at, seq) read by its seq (the primary key).
    last = decisions.alias("last").c
    after = select(last.evaluated_at, last.seq).where(last.seq == bindparam("last")).subquery()
    paged = query.where(tuple_(d.evaluated_at, d.seq) > select(after).scalar_subquery())
    rows = []
    while True:
        with engine.connect() as conn:
            rows = conn.execute(paged, {"last": rows[-1].seq}).all() if rows else conn.execute(query).all()
        yield from rows
        if len(rows) < page:
            return


def _selected(c, selection: Selection) -> list:
    conditions = [c.home_region == selection.home_region] if selection.home_region is not None else []
    return conditions + period_conditions(
        c,
        selection.evaluated_from,
        selection.evaluated_to,
        selection.contact_date_from,
        selection.contact_date_to,
    )


def _rate(count: int, began: float) -> float:
    return count / max(time.monotonic() - began, 1e-9)


def _shown(selection: Selection) -> str:
    shown = ", ".join(f"{key}={value}" for key, value in selection._asdict().items() if value is not None)
    return shown or "every decision"
