"""`python -m rules export [--database URL] DIGEST DIR`: write a stored policy version's files
into DIR, as they were stored, to read, check (`python -m rules check DIR`), diff or edit them.

The database is the service's (DATABASE_URL by default); only read (rules/stored_policies.py).
DIGEST may be the first 8 or more hex digits of the digest when they name one version.
"""

import os
import re
import sys
from pathlib import Path

DIGEST_PREFIX = re.compile(r"[0-9a-f]{8,64}")


def add_arguments(parser) -> None:
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL"),
        help="the service's database URL (default: DATABASE_URL)",
    )
    parser.add_argument("digest", help="the version's digest, or its first 8 or more hex digits")
    parser.add_argument("directory", type=Path, help="where to write the files (new or empty)")


def run(args) -> int:
    if not args.database:
        print("export: no database: give --database URL or set DATABASE_URL", file=sys.stderr)
        return 2
    if not DIGEST_PREFIX.fullmatch(args.digest):
        print(f"export: not a digest: {args.digest!r} (8 to 64 lowercase hex digits)", file=sys.stderr)
        return 2
    target = args.directory
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"export: {target} exists and is not an empty directory", file=sys.stderr)
        return 2
    # Imported here: SQLAlchemy takes 0.2 s to import, which every other command would pay.
    from sqlalchemy.exc import SQLAlchemyError

    from ..stored_policies import StoredPolicies, StoredVersionNotFound

    try:
        stored = StoredPolicies(args.database)
    except FileNotFoundError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    try:
        digest, files = stored.files(args.digest)
    except StoredVersionNotFound as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"export: cannot read the database: {exc}", file=sys.stderr)
        return 2
    finally:
        stored.close()
    root = target.resolve()
    for name, text in files.items():
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            print(f"export: refusing a file outside {target}: {name!r}", file=sys.stderr)
            return 2
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())  # byte for byte: the digest is of this text
    print(f"version {digest}: {len(files)} files written to {target}", file=sys.stderr)
    return 0
