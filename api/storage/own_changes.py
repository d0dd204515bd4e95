"""This process's own changes to what the live policy is built from (the contract registry, the
policy state): each store counts the write transactions it has ended, so LivePolicy
(live_policy.py) looks again at the next request after one, instead of within the second it allows
itself for other processes' changes."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from .engine import writing


class Counted:
    """A store whose write transactions are counted in `changes`."""

    changes: int = 0


@contextmanager
def counted_writing(engine: Engine, store: Counted) -> Iterator[Connection]:
    """writing(), counted in store.changes once the transaction has ended (committed or not)."""
    try:
        with writing(engine) as conn:
            yield conn
    finally:
        store.changes += 1
