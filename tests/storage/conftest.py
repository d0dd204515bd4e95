"""Storage tests run against SQLite and PostgreSQL.

PostgreSQL: TEST_DATABASE_URL (exported by scripts/start-postgres.sh under `make test`), else a
private cluster this session starts itself; skipped, saying why, only when no server binary exists.
Every test gets a fresh database: a new SQLite file, or a new PostgreSQL database dropped after.
"""

import os
import uuid

import pytest

from api.storage import Storage

from .pgserver import PrivatePostgres, available, psql


@pytest.fixture(scope="session")
def postgres_admin_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if not available():
        pytest.skip(
            "no PostgreSQL server binaries (PG_BIN, default /usr/lib/postgresql/15/bin): "
            "PostgreSQL storage tests skipped"
        )
    server = PrivatePostgres()
    server.start()
    try:
        yield server.url()
    finally:
        server.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    psql(admin, f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def storage(db_url):
    store = Storage.open(db_url)
    try:
        yield store
    finally:
        store.close()
