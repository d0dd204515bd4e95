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
        assert current_revision(engine) == "0002"
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            if conn.dialect.name == "postgresql":  # 0002: stored JSON compressed with lz4
                compression = dict(
                    conn.exec_driver_sql(
                        "SELECT attname, attcompression FROM pg_attribute "
                        "WHERE attrelid = 'decisions'::regclass AND attname IN ('contact', 'verdict')"
                    ).all()
                )
                assert compression == {"contact": "l", "verdict": "l"}
        assert diff == []
    finally:
        engine.dispose()
