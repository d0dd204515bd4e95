"""Fixtures for the HTTP service tests: an app, its test client, example contacts, live gunicorn."""

import copy

import pytest

from api import examples
from tests.storage.gunicorn_server import running_gunicorn


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def contact():
    """A valid contact: Norrbotten video contact 2022-03-01 with an uncontracted provider."""
    return copy.deepcopy(examples.NORRBOTTEN_VIDEO)


@pytest.fixture
def live_server(tmp_path, app_db_url):
    """Real gunicorn (the `make run` command) on a free port with 2 workers, on SQLite and then on
    PostgreSQL; stopped after the test. Its output is in tmp_path / "gunicorn.log"."""
    with running_gunicorn(
        tmp_path / "gunicorn.log",
        env={"DATABASE_URL": app_db_url},
        startup_timeout=30,
    ) as (base, _proc):
        yield base
