"""Policy versions and contract books as the service's database keeps them, read by digest for
`python -m rules replay`.

rules/ knows nothing of the service (no Flask, no api/), so this names just the two columns of
the two tables it reads (api/storage/tables.py declares them); versions and books are immutable,
so a plain read by primary key is all it takes. The stored form of a book (a JSON list of
Contract.to_dict()) is read back here for the service too (api/storage/contract_books.py).
"""

from pathlib import Path

import orjson
from sqlalchemy import column, create_engine, select, table
from sqlalchemy.engine import make_url

from .contracts import ContractBook
from .errors import PolicyError
from .loader import contract_from_dict, load_policy_files
from .policy import Policy
from .replay import NotReplayable

_VERSIONS = table("policy_versions", column("digest"), column("files"))
_BOOKS = table("contract_books", column("digest"), column("contracts"))


def contract_book(text: str | bytes) -> ContractBook:
    """A stored contract book (its JSON text) as the ContractBook it was."""
    return ContractBook(_contract(body) for body in orjson.loads(text))


def _contract(body: dict):
    def fail(key, message):
        raise ValueError(f"stored contract book: {body.get('id')}: {key}: {message}")

    return contract_from_dict(body, fail)


class StoredPolicies:
    """The policies decisions were made with, from the database at `url` (read only)."""

    def __init__(self, url: str):
        url = make_url(url)
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
            raise FileNotFoundError(f"no SQLite database at {url.database}")  # rather than make one
        if url.drivername in ("postgres", "postgresql"):  # as the service: psycopg 3, the driver installed
            url = url.set(drivername="postgresql+psycopg")
        self.engine = create_engine(url)
        self._versions: dict[str, Policy] = {}
        self._books: dict[str, ContractBook] = {}

    def policy(self, version: str, book: str) -> Policy:
        """The version compiled, with the contract book; NotReplayable if either is not stored or
        the version does not load with today's engine."""
        return self._version(version).with_contracts(self._book(book))

    def close(self) -> None:
        self.engine.dispose()

    def _version(self, digest: str) -> Policy:
        if digest not in self._versions:
            files = self._read(_VERSIONS.c.files, _VERSIONS.c.digest == digest)
            if files is None:
                raise NotReplayable(f"Policy version {digest} is not in the database.")
            try:
                self._versions[digest] = load_policy_files(orjson.loads(files), root=f"version {digest[:12]}")
            except PolicyError as exc:
                raise NotReplayable(f"Policy version {digest} does not load: {exc}") from None
        return self._versions[digest]

    def _book(self, digest: str) -> ContractBook:
        if digest not in self._books:
            text = self._read(_BOOKS.c.contracts, _BOOKS.c.digest == digest)
            if text is None:
                raise NotReplayable(f"Contract book {digest} is not in the database.")
            self._books[digest] = contract_book(text)
        return self._books[digest]

    def _read(self, wanted, condition):
        with self.engine.connect() as conn:
            return conn.execute(select(wanted).where(condition)).scalar_one_or_none()
