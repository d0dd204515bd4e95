"""Storage tests: the database fixtures (db_url, on SQLite and PostgreSQL) are in tests/conftest.py."""

import pytest

from api.storage import Storage


@pytest.fixture
def storage(db_url):
    store = Storage.open(db_url)
    try:
        yield store
    finally:
        store.close()
