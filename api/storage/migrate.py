"""Bring the database to the newest Alembic revision, safely from several workers at once.

Under the shipped gunicorn config the master migrates before any worker starts (`python -m
api.storage upgrade`, api/gunicorn.conf.py), where no worker timeout can cut a long migration
short. Every worker still calls upgrade() at start (the service also runs without that config); a
lock makes the first one migrate and the others find the work done: a PostgreSQL advisory lock, or
an flock on a file beside the SQLite database.
"""

from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from .engine import sqlite_file
from .file_lock import exclusive_file_lock

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"
MIGRATIONS = ROOT / "migrations"
_PG_LOCK_KEY = 0x75746F6D  # "utom": an arbitrary constant shared by every worker


def alembic_config() -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with _migration_lock(engine):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _migration_lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                connection.commit()
        return
    database = sqlite_file(engine)
    if database is None:
        yield
        return
    with exclusive_file_lock(f"{database}.migrate-lock"):
        yield
