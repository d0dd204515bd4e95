"""Policy versions read straight from the service's database, for `python -m rules export`.

rules/ never imports the service (api/), so this is one SQLAlchemy Core query of the
policy_versions table the service keeps (api/storage/tables.py: digest, files as JSON). It only
reads: adding and activating versions is the service's (audited) business.
"""

import json
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


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


def stored_files(url: str, digest: str) -> tuple[str, dict[str, str]]:
    """(digest, files) of the version whose digest is or starts with `digest` (8 or more hex
    digits; it must name one version). Raises StoredVersionNotFound."""
    location = make_url(driver_url(url))
    if location.get_backend_name() == "sqlite" and not Path(location.database or "").is_file():
        raise StoredVersionNotFound(f"no SQLite database at {location.database!r}")  # not made one
    engine = create_engine(location)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT digest, files FROM policy_versions WHERE digest LIKE :prefix ORDER BY digest"),
                {"prefix": f"{digest}%"},
            ).all()
    finally:
        engine.dispose()
    if len(rows) != 1:
        found = "no version" if not rows else f"{len(rows)} versions"
        raise StoredVersionNotFound(f"{found} with a digest starting {digest!r}")
    return rows[0].digest, json.loads(rows[0].files)
