"""Where a stored single verdict's time goes, in process: the whole POST /v1/verdicts against GET
/health and against the same POST without the decision log, and the storing path in layers.

The request is called as gunicorn calls the app (a WSGI environ, no test client), one thread, an
SQLite log in a temporary directory. Layers, per request (each includes the ones below it):

    issue            records and log entries made, then stored (api/issuing.py)
    record_now       group commit: queue, lead, the transaction (decision_log.DecisionLog)
    record_groups    the writer lock, BEGIN IMMEDIATE, the statements, COMMIT (sqlite_group_writer)
    record           the two lookups and the INSERT (decision_log.Transaction)

`record_groups - record` is what a transaction costs however little it stores: the lock, BEGIN and
COMMIT, whose WAL write is one page per B-tree the row touches (~9 pages of 8 KiB).

    .venv/bin/python bench/single_verdict_parts.py [--requests 5000]
"""

import argparse
import collections
import functools
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder  # noqa: E402

TIMED = collections.Counter()


def timed(owner, name: str, label: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter_ns()
        try:
            return original(*args, **kwargs)
        finally:
            TIMED[label] += time.perf_counter_ns() - started

    setattr(owner, name, wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="timed requests of each kind")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    os.environ["DATABASE_PATH"] = f"{tmp.name}/parts.sqlite3"

    from api import create_app, examples, issuing
    from api.blueprints import verdicts
    from api.storage import decision_log, sqlite_group_writer

    timed(verdicts, "issue", "issue")  # the name post_verdict calls (imported from api.issuing)
    timed(decision_log.DecisionLog, "record_now", "record_now")
    timed(sqlite_group_writer.SqliteGroupWriter, "record_groups", "record_groups")
    timed(decision_log.Transaction, "record", "record")
    app = create_app()
    body = json.dumps(examples.NORRBOTTEN_VIDEO)
    serial = iter(range(10**9))

    def post():
        data = body.replace('"contact_id": "', f'"contact_id": "parts-{next(serial)}-')
        return EnvironBuilder(path="/v1/verdicts", method="POST", data=data, content_type="application/json")

    def per_request_us(make, count: int) -> float:
        environs = [make().get_environ() for _ in range(count)]
        started = time.perf_counter_ns()
        for environ in environs:
            b"".join(app(environ, lambda *_: None))
        return (time.perf_counter_ns() - started) / count / 1000

    def health():
        return EnvironBuilder(path="/health")

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)  # as api/gunicorn.conf.py sets it in each worker
    per_request_us(post, 1000)  # warm-up: caches, prepared statements, the first pages
    per_request_us(health, 1000)
    n = args.requests
    health_us = per_request_us(health, n)
    TIMED.clear()
    post_us = per_request_us(post, n)
    layers = {label: TIMED[label] / n / 1000 for label in ("issue", "record_now", "record_groups", "record")}
    issuing.set_decision_recorder(app, None)
    per_request_us(post, 1000)
    bare_us = per_request_us(post, n)

    print(f"in process, one thread, {n:,} requests each (SQLite decision log):")
    print(f"  GET /health                               {health_us:6.0f} µs")
    print(f"  POST /v1/verdicts, stored                 {post_us:6.0f} µs")
    print(f"  POST /v1/verdicts, no decision log        {bare_us:6.0f} µs")
    for label, value in layers.items():
        print(f"    {label:16}                        {value:6.0f} µs")
    transaction_us = layers["record_groups"] - layers["record"]
    print(f"    lock + BEGIN + COMMIT (record_groups - record) {transaction_us:4.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
