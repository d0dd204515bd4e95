"""The Alembic migrations build exactly the schema the code uses, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from api.storage import make_engine
from api.storage.migrate import current_revision, upgrade
from api.storage.tables import metadata


def test_migrations_match_the_tables_and_run_twice(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        upgrade(engine)  # a second worker finds the work done
        assert current_revision(engine) == "0001"
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()
