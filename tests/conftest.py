"""Shared fixtures."""

import pytest

import rules


@pytest.fixture(scope="session")
def policy():
    return rules.default_policy()


@pytest.fixture(autouse=True, scope="session")
def _database_in_a_temp_dir(tmp_path_factory):
    """Apps made by tests store decisions in a throwaway SQLite file, never in instance/."""
    import os

    if "DATABASE_URL" in os.environ or "DATABASE_PATH" in os.environ:
        yield
        return
    os.environ["DATABASE_PATH"] = str(tmp_path_factory.mktemp("db") / "service.sqlite3")
    try:
        yield
    finally:
        os.environ.pop("DATABASE_PATH", None)
