"""`python -m api.storage upgrade|current`: run the migrations by hand, or see where the database
is. gunicorn's master runs `upgrade` before it starts the workers (api/gunicorn.conf.py)."""

import argparse
import sys

from sqlalchemy.engine import make_url

from .engine import database_url, make_engine
from .migrate import current_revision, upgrade_database


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.storage", description=__doc__)
    parser.add_argument("command", choices=("upgrade", "current"))
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the SQLite file)")
    args = parser.parse_args(argv)
    url = args.url or database_url()
    if args.command == "upgrade":
        revision = upgrade_database(url)
    else:
        engine = make_engine(url)
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
    print(f"{make_url(url).render_as_string(hide_password=True)}: revision {revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
