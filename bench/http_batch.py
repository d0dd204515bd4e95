"""POST /v1/verdicts/batch end to end over HTTP, every decision stored, on SQLite and on PostgreSQL.

Goals, on each database:
- a 10,000-contact batch at least 10,000 contacts/s, from sending the request to the last byte of
  the answer (judged on the median of the timed runs);
- a 100,000-line batch: the worker that handled it peaks under 500 MB RSS (VmHWM in /proc).

Real gunicorn with the shipped config (bench/server.py). Every batch holds new contacts, so every
verdict is a first decision and is stored, not an idempotent repeat. The first batches are not
timed (a worker's first request warms it up); with more workers than warm-up batches a timed batch
can still meet a cold worker, one reason the goal is judged on the median. At the end the decisions
listed by GET /v1/decisions must number exactly the verdicts answered.

    .venv/bin/python bench/http_batch.py [sqlite] [postgresql] [--contacts 10000] [--runs 5]
        [--warm-up 2] [--big 100000] [--workers N]
"""

import argparse
import statistics
import sys
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from server import DATABASES, config_workers, count_decisions, gunicorn, post_batch, status_mb  # noqa: E402
from synthetic_contacts import contacts  # noqa: E402

GOAL_RATE = 10_000  # contacts/s
GOAL_PEAK_MB = 500


def body(count: int, seed: int) -> bytes:
    return orjson.dumps({"contacts": list(contacts(count, seed=seed))})


def answered(result: dict, count: int) -> int:
    verdicts, rejected = len(result["verdicts"]), len(result["rejected"])
    if verdicts + rejected != count or rejected:
        raise RuntimeError(f"{count} lines sent: {verdicts} verdicts, {rejected} rejected")
    return verdicts


def peaks(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            found[pid] = status_mb(pid, "VmHWM")
        except OSError:  # a worker that has gone (killed, replaced) has no peak to read
            pass
    return found


def run(database: str, args) -> bool:
    bodies = [body(args.contacts, seed) for seed in range(1, args.warm_up + args.runs + 1)]
    total = 0
    ok = True
    with gunicorn(database, workers=args.workers) as server:
        for data in bodies[: args.warm_up]:
            _, result = post_batch(server.base, data)
            total += answered(result, args.contacts)
        rates = []
        for data in bodies[args.warm_up :]:
            elapsed, result = post_batch(server.base, data)
            total += answered(result, args.contacts)
            rates.append(args.contacts / elapsed)
        median = statistics.median(rates)
        met = median >= GOAL_RATE
        ok &= met
        print(
            f"{database:10}  {args.contacts:,}-contact batch: median {median:,.0f} contacts/s, "
            f"best {max(rates):,.0f}, worst {min(rates):,.0f} over {len(rates)} runs "
            f"(goal >= {GOAL_RATE:,}: {'met' if met else 'MISSED'})"
        )
        if args.big:
            data = body(args.big, seed=1_000_000)
            before = peaks(server.workers())
            elapsed, result = post_batch(server.base, data)
            del data
            total += answered(result, args.big)
            del result
            after = peaks(server.workers())
            # The worker whose peak rose is the one that handled it (else the highest peak).
            pid = max(after, key=lambda p: (after[p] - before.get(p, 0.0), after[p]))
            met = after[pid] < GOAL_PEAK_MB
            ok &= met
            print(
                f"{'':10}  {args.big:,}-line batch: {args.big / elapsed:,.0f} contacts/s; "
                f"peak RSS of the worker that handled it (pid {pid}) {after[pid]:.0f} MB, "
                f"{before.get(pid, float('nan')):.0f} MB before (goal < {GOAL_PEAK_MB}: "
                f"{'met' if met else 'MISSED'})"
            )
        stored = count_decisions(server.base)
    print(f"{'':10}  decisions answered {total:,}, listed by GET /v1/decisions {stored:,}")
    if stored != total:
        print(f"{database}: FAIL: not every decision answered was stored")
        ok = False
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="*", metavar="database", help=" and/or ".join(DATABASES))
    parser.add_argument("--contacts", type=int, default=10_000, help="contacts per timed batch")
    parser.add_argument("--runs", type=int, default=5, help="timed batches")
    parser.add_argument("--warm-up", type=int, default=2, help="untimed batches first")
    parser.add_argument("--big", type=int, default=100_000, help="lines of the memory batch (0: none)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: the config's)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for database in args.databases:
        if database not in DATABASES:
            parser.error(f"not a database: {database!r} (one of {', '.join(DATABASES)})")
    print(
        f"http_batch: every decision stored; gunicorn -c api/gunicorn.conf.py, "
        f"{args.workers or config_workers()} workers"
    )
    ok = True
    for database in args.databases or DATABASES:
        ok &= run(database, args)
    print("PASS" if ok else "FAIL: a goal was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
