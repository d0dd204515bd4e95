"""`python -m api.storage upgrade|current`: run the migrations by hand, or see where the database
is. gunicorn's master runs `upgrade` before it starts the workers (api/gunicorn.conf.py)."""

import argparse
import sys

from .engine import database_url, make_engine
from .migrate import current_revision, upgrade


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.storage", description=__doc__)
    parser.add_argument("command", choices=("upgrade", "current"))
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the SQLite file)")
    args = parser.parse_args(argv)
    engine = make_engine(args.url or database_url())
    try:
        if args.command == "upgrade":
            upgrade(engine)
        print(f"{engine.url.render_as_string(hide_password=True)}: revision {current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
