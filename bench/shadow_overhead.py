"""A shadow may slow a single verdict by at most 20 %: a stored single POST /v1/verdicts with and
without a version in shadow, on SQLite and on PostgreSQL.

In process, through Flask's test client: the whole request as the service handles it (the JSON
body read, rules.evaluate, the decisions made in api/issuing.py, the decision log's transaction,
the answer), without an HTTP server, whose sockets and worker scheduling on this shared 2-core
machine would add more noise than the difference measured. Two apps, each with a decision log of
its own (two SQLite files; on PostgreSQL two databases in one private cluster with fsync on, the
default durability): one with a candidate in shadow, one without. The candidate is the
`national_only` scenario stored as a version: no regional layer, so every Norrbotten contact its
digital stop or referral rule refuses is a disagreement, stored with the shadow's verdict (their
count, and the overhead on those contacts alone, is printed). Requests alternate between the two
apps one by one (which goes first alternates too), each a new contact, the same one to both, so
both decide and store it; the first requests are not timed. Goal: the median with the shadow at
most 1.20 times the median without.

    .venv/bin/python bench/shadow_overhead.py [sqlite] [postgresql] [--requests 3000] [--warm-up 300]
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from synthetic_contacts import contacts  # noqa: E402

import rules  # noqa: E402
from api import create_app  # noqa: E402
from rules.policy_version import document_text, version_files  # noqa: E402
from rules.simulation.scenarios import scenario_documents  # noqa: E402
from tests.storage import pgserver  # noqa: E402

DATABASES = ("sqlite", "postgresql")
GOAL_RATIO = 1.20


@contextmanager
def two_databases(kind: str):
    """Yield two URLs of new, empty decision logs; removed after."""
    with tempfile.TemporaryDirectory(prefix="utomlans-bench-") as tmp:
        if kind == "sqlite":
            yield [f"sqlite:///{tmp}/{name}.sqlite3" for name in ("plain", "shadowed")]
            return
        if not pgserver.available():
            raise SystemExit(f"no PostgreSQL server binaries in {pgserver.PG_BIN}: cannot run on PostgreSQL")
        cluster = pgserver.PrivatePostgres(fsync=True)
        try:
            cluster.start()
            yield [cluster.create_database(name) for name in ("plain", "shadowed")]
        finally:
            cluster.destroy()


def put_in_shadow(app) -> str:
    """Store the national_only scenario as a candidate and put it in shadow, through the API."""
    files = {rel: document_text(doc) for rel, doc in scenario_documents("national_only").items()}
    storage = app.extensions["utomlans.storage"]
    version, _ = storage.versions.add(version_files(files), actor="bench", note="bench/shadow_overhead.py")
    body = {"digest": version["digest"], "note": "bench/shadow_overhead.py"}
    response = app.test_client().put("/v1/shadow", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"PUT /v1/shadow: {response.status_code} {response.get_data(as_text=True)}")
    return version["digest"]


def post(client, body: bytes) -> int:
    """Nanoseconds from the request to the whole answer."""
    started = time.perf_counter_ns()
    response = client.post("/v1/verdicts", data=body, content_type="application/json")
    elapsed = time.perf_counter_ns() - started
    if response.status_code != 200:
        raise RuntimeError(f"POST /v1/verdicts: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed


def disagrees(live, contact: dict) -> bool:
    """Whether the shadow decides the contact otherwise (so its verdict is written and stored too)."""
    verdict = rules.evaluate(contact, live.policy)
    try:
        other = rules.evaluate(contact, live.shadow)
    except rules.InvalidContact:
        return True
    return (other.decision, other.reason, other.amount_ore) != (
        verdict.decision,
        verdict.reason,
        verdict.amount_ore,
    )


def medians(times: list[int]) -> str:
    p90 = statistics.quantiles(times, n=10)[-1]
    return f"median {statistics.median(times) / 1e6:.3f} ms, p90 {p90 / 1e6:.3f} ms"


def run(database: str, args) -> bool:
    sent = list(contacts(args.warm_up + args.requests, seed=17))
    bodies = [orjson.dumps(contact) for contact in sent]
    with two_databases(database) as (plain_url, shadowed_url):
        apps = [create_app({"DATABASE_URL": url}) for url in (plain_url, shadowed_url)]
        try:
            put_in_shadow(apps[1])
            live = apps[1].extensions["utomlans.storage"].live.now()
            disagreeing = [disagrees(live, contact) for contact in sent[args.warm_up :]]
            clients = [app.test_client() for app in apps]
            times: list[list[int]] = [[], []]
            for n, body in enumerate(bodies):
                order = (0, 1) if n % 2 == 0 else (1, 0)
                for which in order:
                    elapsed = post(clients[which], body)
                    if n >= args.warm_up:
                        times[which].append(elapsed)
            report = clients[1].get("/v1/shadow").get_json()
        finally:
            for app in apps:
                app.extensions["utomlans.storage"].close()
    ratio = statistics.median(times[1]) / statistics.median(times[0])
    ok = ratio <= GOAL_RATIO
    worst = [[t for t, d in zip(times[which], disagreeing, strict=True) if d] for which in (0, 1)]
    disagreeing_line = (
        f"  the {len(worst[0])} contacts the shadow decides otherwise: without {medians(worst[0])}; "
        f"with {medians(worst[1])}: {statistics.median(worst[1]) / statistics.median(worst[0]):.3f}\n"
        if len(worst[0]) >= 2  # a --quick run may send fewer
        else ""
    )
    print(
        f"{database}: {args.requests} timed single POST /v1/verdicts per app "
        f"(after {args.warm_up}), alternating\n"
        f"  without shadow: {medians(times[0])}\n"
        f"  with shadow:    {medians(times[1])} "
        f"({report['verdicts']} shadowed, {report['disagreements']} disagreements)\n"
        f"{disagreeing_line}"
        f"  median with / without: {ratio:.3f} ({ratio - 1:+.1%}; goal <= {GOAL_RATIO:.2f}): "
        f"{'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="*", metavar="database", help=" and/or ".join(DATABASES))
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per app")
    parser.add_argument("--warm-up", type=int, default=300, help="untimed requests per app first")
    args = parser.parse_args(argv)
    for database in args.databases:
        if database not in DATABASES:
            parser.error(f"not a database: {database!r} (one of {', '.join(DATABASES)})")
    logging.disable(logging.WARNING)  # "no API keys configured": the apps run open, as `make run`
    results = [run(database, args) for database in args.databases or DATABASES]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
