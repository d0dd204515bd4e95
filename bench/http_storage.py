"""POST /v1/verdicts/batch with every decision stored, over HTTP to real gunicorn (2 workers), on
SQLite (WAL, synchronous=NORMAL) and on PostgreSQL 15 (a private cluster with default durability:
fsync on, synchronous_commit on). Goal: at least 20,000 contacts/s end to end on each.

Each timed batch holds 10,000 new contacts (no idempotent repeats: every one is inserted); after
the runs the decision count in the database is checked against what was answered.

    .venv/bin/python bench/http_storage.py [sqlite] [postgresql] [--stored-before 300000]

--stored-before N first stores N decisions through the same endpoint (untimed): the rate with a
log that has been in use, whose indexes no longer fit a few pages.
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from http_batch import post  # noqa: E402
from http_server import gunicorn  # noqa: E402
from synthetic_contacts import contacts  # noqa: E402

from api.storage import Storage  # noqa: E402

COUNT = 10_000
RUNS = 5
WARM_UP = 2
GOAL = 20_000


def batch(seed: int) -> bytes:
    lines = [dict(line, contact_id=f"s{seed}-{i}") for i, line in enumerate(contacts(COUNT, seed=seed))]
    return orjson.dumps({"contacts": lines})


@contextlib.contextmanager
def sqlite_url():
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.sqlite3"


@contextlib.contextmanager
def postgres_url():
    from tests.storage.pgserver import PrivatePostgres, available

    if not available():
        raise SystemExit("no PostgreSQL server binaries: cannot run the PostgreSQL benchmark")
    server = PrivatePostgres(fsync=True)
    server.start()
    try:
        yield server.create_database("bench")
    finally:
        server.destroy()


def run(name: str, url: str, stored_before: int = 0) -> bool:
    Storage.open(url).close()  # migrate and seed once, before the workers start
    os.environ["DATABASE_URL"] = url
    bodies = [batch(seed) for seed in range(WARM_UP + RUNS)]
    answered = 0
    times = []
    with gunicorn(workers=2) as (base, _proc):
        for seed in range(stored_before // COUNT):
            _, result = post(base, batch(1_000_000 + seed))
            answered += len(result["verdicts"])
        for body in bodies[:WARM_UP]:  # caches, connection pools (each worker gets some)
            _, result = post(base, body)
            answered += len(result["verdicts"])
        for body in bodies[WARM_UP:]:
            elapsed, result = post(base, body)
            answered += len(result["verdicts"])
            times.append(elapsed)
    storage = Storage.open(url, prepare=False)
    stored = storage.decisions.count()
    storage.close()
    best, median = COUNT / min(times), COUNT / statistics.median(times)
    verdict = "OK" if best >= GOAL else "BELOW GOAL"
    print(
        f"{name:10s} {stored_before:,} stored before; 10,000-contact batch, stored: "
        f"best {best:,.0f}/s, median {median:,.0f}/s "
        f"({min(times) * 1000:.0f} ms best) goal {GOAL:,}/s: {verdict}; "
        f"answered {answered:,}, stored {stored:,}"
    )
    if stored != answered:
        print(f"{name}: MISMATCH answered {answered} stored {stored}")
        return False
    return best >= GOAL


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="*", metavar="{sqlite,postgresql}")
    parser.add_argument("--stored-before", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    for name in args.databases:
        if name not in ("sqlite", "postgresql"):
            parser.error(f"not a database this benchmark knows: {name!r}")
    ok = True
    for name in args.databases or ["sqlite", "postgresql"]:
        make = {"sqlite": sqlite_url, "postgresql": postgres_url}[name]
        with make() as url:
            ok &= run(name, url, args.stored_before)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
