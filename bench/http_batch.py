"""POST /v1/verdicts/batch end to end over HTTP to real gunicorn.

1. A 10,000-contact batch (1 % bad lines): contacts/s from sending the request to the last byte of
   the response (goal: at least 25,000/s). Best of 3 runs and the median are printed.
2. A 100,000-line batch to a one-worker server, then that worker's RSS and peak RSS from /proc
   (goal: under 500 MB).

    .venv/bin/python bench/http_batch.py
"""

import http.client
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from http_server import child_pids, gunicorn, rss_mb, worker_pids  # noqa: E402
from synthetic_contacts import contacts  # noqa: E402


def batch(count: int, seed: int) -> bytes:
    lines = list(contacts(count, seed=seed))
    for index in range(50, count, 100):  # every 100th line is bad: a retired region code
        lines[index] = dict(lines[index], home_region="02")
    return orjson.dumps({"contacts": lines})


def post(base: str, body: bytes) -> tuple[float, dict]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    started = time.perf_counter()
    conn.request("POST", "/v1/verdicts/batch", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"batch answered {response.status}: {data[:500]!r}")
    return elapsed, orjson.loads(data)


def check(result: dict, count: int) -> None:
    decided, rejected = len(result["verdicts"]), len(result["rejected"])
    if decided + rejected != count or result["summary"]["count"] != decided:
        raise RuntimeError(f"lines lost: {decided} decided + {rejected} rejected != {count}")


def in_process_breakdown(bodies: list[bytes]) -> None:
    """Where a batch's time goes, without the network: the whole app, then without the decision log
    and live contract registry (the engine and this HTTP layer alone)."""
    import tempfile

    import rules
    from api import create_app, issuing, policy_source

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/breakdown.sqlite3"})
        client = app.test_client()

        def rate(body):
            started = time.perf_counter()
            response = client.post("/v1/verdicts/batch", data=body, content_type="application/json")
            response.get_data()
            return 10_000 / (time.perf_counter() - started)

        rate(bodies[0])
        full = rate(bodies[1])
        issuing.set_decision_recorder(app, None)
        policy_source.set_policy_provider(app, rules.default_policy)
        rate(bodies[2])
        bare = rate(bodies[3])
        app.extensions["utomlans.storage"].close()
    print(f"  in process: {full:,.0f} contacts/s with the decision log,", end=" ")
    print(f"{bare:,.0f} without it (engine + HTTP layer)")


def main() -> int:
    ok = True
    # Fresh contacts for every timed run: a first decision is stored, a repeat is only looked up.
    bodies = [batch(10_000, seed=seed) for seed in (1, 2, 3, 4, 5)]
    print(f"10,000-contact batch: {len(bodies[0]) / 1e6:.1f} MB request")
    for label, app in (
        ("end to end", "api:create_app()"),
        ("end to end, no decision log (bench/http_app_engine_only.py)", "http_app_engine_only:create()"),
    ):
        with gunicorn(workers=2, app=app) as (base, _proc):
            post(base, bodies[0])  # warm-up: first request of each worker builds caches
            post(base, bodies[1])
            rates = []
            for body in bodies[2:]:
                elapsed, result = post(base, body)
                check(result, 10_000)
                rates.append(10_000 / elapsed)
            best, median = max(rates), statistics.median(rates)
            print(f"  {label}: best {best:,.0f} contacts/s, median {median:,.0f} contacts/s (goal >= 25,000)")
            if app == "api:create_app()":
                elapsed, result = post(base, bodies[-1])
                check(result, 10_000)
                print(f"  the same batch again (idempotent repeats): {10_000 / elapsed:,.0f} contacts/s")
                ok &= best >= 25_000
    in_process_breakdown(bodies)

    body = batch(100_000, seed=100)
    print(f"100,000-line batch: {len(body) / 1e6:.1f} MB request")
    with gunicorn(workers=1) as (base, proc):
        (worker,) = worker_pids(proc.pid)
        before = rss_mb(worker)
        elapsed, result = post(base, body)
        check(result, 100_000)
        after, peak = rss_mb(worker), rss_mb(worker, "VmHWM")
        print(f"  {100_000 / elapsed:,.0f} contacts/s, response {len(orjson.dumps(result)) / 1e6:.0f} MB")
        print(f"  worker RSS: {before:.0f} MB before, {after:.0f} MB after, peak {peak:.0f} MB (goal < 500)")
        for helper in child_pids(worker):  # its batch helper (api/batch_helper), a process of its own
            rss, helper_peak = rss_mb(helper), rss_mb(helper, "VmHWM")
            print(f"  its batch helper (pid {helper}): RSS {rss:.0f} MB, peak {helper_peak:.0f} MB")
        ok &= peak < 500
    print("PASS" if ok else "FAIL: a goal was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
