"""Policy versions and contract books as the service's database keeps them, read by digest for
`python -m rules replay` and `python -m rules export`. Only read: adding and activating versions is
the service's (audited) business.

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


def driver_url(url: str) -> str:
    """A database URL as SQLAlchemy takes it: a plain postgres:// or postgresql:// URL is pointed
    at psycopg 3, the driver this project installs (the service reads DATABASE_URL the same way)."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class StoredVersionNotFound(LookupError):
    pass


class StoredPolicies:
    """The policies decisions were made with, from the database at `url` (read only)."""

    def __init__(self, url: str):
        url = make_url(driver_url(url))
        if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
            raise FileNotFoundError(f"no SQLite database at {url.database!r}")  # rather than make one
        self.engine = create_engine(url)
        self._versions: dict[str, Policy] = {}
        self._books: dict[str, ContractBook] = {}

    def policy(self, version: str, book: str) -> Policy:
        """The version compiled, with the contract book; NotReplayable if either is not stored or
        the version does not load with today's engine."""
        return self._version(version).with_contracts(self._book(book))

    def files(self, prefix: str) -> tuple[str, dict[str, str]]:
        """(digest, files) of the version whose digest is or starts with `prefix` (it must name
        one version). Raises StoredVersionNotFound."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_VERSIONS.c.digest, _VERSIONS.c.files)
                .where(_VERSIONS.c.digest.startswith(prefix, autoescape=True))
                .order_by(_VERSIONS.c.digest)
            ).all()
        if len(rows) != 1:
            found = "no version" if not rows else f"{len(rows)} versions"
            raise StoredVersionNotFound(f"{found} with a digest starting {prefix!r}")
        return rows[0].digest, orjson.loads(rows[0].files)

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
