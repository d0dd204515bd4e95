"""Shared fixtures. Every test that makes an app runs on SQLite and on PostgreSQL (`make_app`).

PostgreSQL: TEST_DATABASE_URL (exported by scripts/start-postgres.sh under `make test`), else a
private cluster this session starts itself; skipped, saying why, only when no server binary exists.
Every test gets a fresh database: a new SQLite file, or a new PostgreSQL database dropped after.
"""

import os
import uuid
from contextlib import contextmanager

import pytest

import rules
from api import create_app
from api.storage import Storage
from tests.storage.pgserver import TESTS_ICU_LOCALE, PrivatePostgres, available, psql


@pytest.fixture(scope="session")
def policy():
    return rules.default_policy()


@pytest.fixture(autouse=True, scope="session")
def _database_in_a_temp_dir(tmp_path_factory):
    """Apps made without a DATABASE_URL store decisions in a throwaway SQLite file, never in instance/."""
    if "DATABASE_URL" in os.environ or "DATABASE_PATH" in os.environ:
        yield
        return
    os.environ["DATABASE_PATH"] = str(tmp_path_factory.mktemp("db") / "service.sqlite3")
    try:
        yield
    finally:
        os.environ.pop("DATABASE_PATH", None)


@pytest.fixture(scope="session")
def postgres_admin_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if not available():
        pytest.skip("no PostgreSQL server binaries (PG_BIN, default /usr/lib/postgresql/15/bin): skipped")
    server = PrivatePostgres(icu_locale=TESTS_ICU_LOCALE)
    server.start()
    try:
        yield server.url()
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def _migrated_template(postgres_admin_url):
    """A PostgreSQL database migrated and seeded once, cloned for each test that makes an app."""
    name = f"t_template_{uuid.uuid4().hex[:8]}"
    psql(postgres_admin_url, f'CREATE DATABASE "{name}"')
    Storage.open(_on(postgres_admin_url, name)).close()
    yield name
    psql(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _on(admin_url: str, name: str) -> str:
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


@contextmanager
def _postgres_database(request, template: str | None = None):
    """A new PostgreSQL database (a copy of `template`, if given), dropped after."""
    admin = request.getfixturevalue("postgres_admin_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    psql(admin, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield _on(admin, name)
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    with _postgres_database(request) as url:
        yield url


@pytest.fixture
def postgresql_app_url(request):
    """A PostgreSQL database as the service leaves it at its first start: migrated, seeded."""
    with _postgres_database(request, request.getfixturevalue("_migrated_template")) as url:
        yield url


@pytest.fixture
def sqlite_app_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db_url(request):
    """The database of `make_app`: SQLite, then PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_app_url")


@pytest.fixture
def make_app(app_db_url):
    """create_app on this test's database (SQLite, then PostgreSQL): `make_app(BATCH_MAX_LINES=5)`.
    Every app made is closed after the test."""
    made = []

    def make(**config):
        app = create_app({"TESTING": True, "DATABASE_URL": app_db_url, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["utomlans.storage"].close()
