"""Each state of the contract registry that decisions were made with, stored by its digest.

A decision names the contract book it was decided with (decisions.contract_book), so a replay or
an impact run decides it again with exactly those contracts, whatever the registry holds now.
A book is stored when a worker first decides with it (live_policy.py), before any decision names it.
"""

from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Engine

from rules import ContractBook
from rules.stored_policies import contract_book

from .engine import dialect_insert, writing
from .tables import contract_books


class ContractBooks:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._cache: dict[str, ContractBook] = {}

    def keep(self, book: ContractBook) -> None:
        """Store the book unless it is stored already (books are immutable: the digest says all)."""
        if book.digest in self._cache:
            return
        insert = dialect_insert(self.engine)
        contracts = orjson.dumps([contract.to_dict() for contract in book.contracts]).decode()
        with writing(self.engine) as conn:
            conn.execute(
                insert(contract_books)
                .values(digest=book.digest, contracts=contracts, stored_at=datetime.now(UTC))
                .on_conflict_do_nothing(index_elements=["digest"])
            )
        self._cache[book.digest] = book

    def get(self, digest: str) -> ContractBook | None:
        if digest in self._cache:
            return self._cache[digest]
        with self.engine.connect() as conn:
            text = conn.execute(
                select(contract_books.c.contracts).where(contract_books.c.digest == digest)
            ).scalar_one_or_none()
        if text is None:
            return None
        book = self._cache[digest] = contract_book(text)
        return book
