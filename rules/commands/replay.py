"""`python -m rules replay DECISIONS.jsonl [--database URL]`: replay exported decisions (JSON Lines,
each as GET /v1/decisions lists it) under the policy version and contract book each was decided with,
read from the service's database (rules/stored_policies.py), and print one JSON line per decision:
identical, or the differences.

Exit code 0 when every decision replays identical, 1 when any differs, 2 when none differs but some
line could not be replayed (not a decision, decided before versions were kept, its version or book
not in the database) or the file or database cannot be read.
"""

import os
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ..json_numbers import loads
from ..replay import NotReplayable, decided_with, replay, to_json
from ..stored_policies import StoredPolicies


def add_arguments(parser) -> None:
    parser.add_argument("file", type=Path, help="exported decisions, one JSON object per line")
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL"),
        metavar="URL",
        help="the service's database, where the versions and contract books are (default: DATABASE_URL)",
    )


def run(args) -> int:
    if not args.file.is_file():
        print(f"replay: no such file: {args.file}", file=sys.stderr)
        return 2
    if not args.database:
        print("replay: no database: give --database URL or set DATABASE_URL", file=sys.stderr)
        return 2
    try:
        stored = StoredPolicies(args.database)
    except (ValueError, OSError) as exc:  # a malformed URL, an SQLite file that is not there
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    counts = {"identical": 0, "differ": 0, "not replayed": 0}
    try:
        with args.file.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    outcome = _replayed(number, line, stored)
                    counts[outcome] += 1
    except SQLAlchemyError as exc:
        print(f"replay: cannot read the database: {exc}", file=sys.stderr)
        return 2
    finally:
        stored.close()
    print(
        f"{sum(counts.values()):,} decisions: {counts['identical']:,} identical, {counts['differ']:,} "
        f"differ, {counts['not replayed']:,} not replayed",
        file=sys.stderr,
    )
    return 1 if counts["differ"] else 2 if counts["not replayed"] else 0


def _replayed(number: int, line: bytes, stored: StoredPolicies) -> str:
    """Replay one line, print its outcome; returns which it was."""
    record = None
    try:
        record = loads(line)
        policy = stored.policy(*decided_with(record))
    except (ValueError, NotReplayable) as exc:  # NotReplayable is a ValueError; so is bad JSON
        print(f"replay: line {number}: {exc}", file=sys.stderr)
        _print({"line": number, "decision_id": _decision_id(record), "error": str(exc)})
        return "not replayed"
    result = replay(record, policy)
    out = {"line": number, "decision_id": record.get("decision_id"), "identical": result["identical"]}
    if not result["identical"]:
        out["differences"] = result["differences"]
    _print(out)
    return "identical" if result["identical"] else "differ"


def _decision_id(record) -> str | None:
    return record.get("decision_id") if isinstance(record, dict) else None


def _print(out: dict) -> None:
    sys.stdout.buffer.write(to_json(out) + b"\n")
