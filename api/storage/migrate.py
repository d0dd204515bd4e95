"""Bring the database to the newest Alembic revision, safely from several processes at once.

Under the shipped gunicorn config the master migrates before any worker starts (`python -m
api.storage upgrade`, api/gunicorn.conf.py), where no worker timeout can cut a long migration
short. Every worker still calls upgrade() at start (the service also runs without that config).
The whole upgrade is one transaction that first takes the database's write lock (SQLite: BEGIN
IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so the first process migrates and the
others wait, then find the work done.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from . import time_limit
from .engine import writing

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"
MIGRATIONS = ROOT / "migrations"
_PG_LOCK_KEY = 0x75746F6D  # "utom": an arbitrary constant shared by every process


def alembic_config() -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with writing(engine) as connection:
        time_limit.lift(connection)  # the service's statement time limit is not for migrations
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
