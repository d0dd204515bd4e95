"""POST /v1/verdicts against GET /health under the same load, with wrk, on real gunicorn.

Goal: single-verdict throughput at least half that of /health at the same concurrency. Prints
requests/s, p50 and p99 latency for both. wrk comes from Debian (`apt-get install wrk`), installed
here when missing.

    .venv/bin/python bench/http_load.py [--duration 10] [--connections 16] [--threads 2] [--rounds 3]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from http_server import gunicorn, rss_mb, worker_pids  # noqa: E402

from api import examples  # noqa: E402

SETTLE_SECONDS = 3  # after a POST round: the WAL checkpoint of its decisions, before /health again

# Each request a new contact_id, so every POST is a fresh decision (stored), not an idempotent repeat.
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local template = [==[%s]==]
local counter = 0
request = function()
  counter = counter + 1
  local body = string.gsub(template, "__ID__", string.format("%%d-%%d", math.random(1, 1000000000), counter))
  return wrk.format(nil, nil, nil, body)
end
"""

REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package)", file=sys.stderr)
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing and this is not root: apt-get install wrk")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("wrk") or "/usr/bin/wrk"


def run_wrk(wrk: str, url: str, script: str, args) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + REPORT)
        path = f.name
    try:
        out = subprocess.run(
            [
                wrk,
                "-t",
                str(args.threads),
                "-c",
                str(args.connections),
                "-d",
                f"{args.duration}s",
                "--latency",
                "-s",
                path,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(f"no result from wrk:\n{out}")
    requests, duration_us, p50, p99, status_errors, socket_errors = map(int, match.groups())
    return {
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "non_2xx": status_errors,
        "socket_errors": socket_errors,
        "requests": requests,
    }


def metrics_text(base: str) -> str:
    import urllib.request

    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        return response.read().decode()


def _statuses(metrics: str, endpoint: str) -> dict[str, int]:
    labels = rf'endpoint="{re.escape(endpoint)}",method="POST",status="(\d+)"'
    pattern = rf"utomlans_http_requests_total{{{labels}}} (\S+)"
    return {status: int(float(count)) for status, count in re.findall(pattern, metrics)}


def per_transaction(metrics: str) -> float | None:
    """Single verdicts per decision-log transaction (group commit)."""
    pattern = r"^utomlans_decision_log_shared_transaction(s|_requests)_total (\S+)$"
    found = dict(re.findall(pattern, metrics, re.M))
    if not found.get("s") or not float(found["s"]):
        return None
    return float(found["_requests"]) / float(found["s"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: the config's)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure /health then POST this many times on one server; the goal is judged on the "
        "median ratio (this machine's figures move by a third within minutes)",
    )
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="also measure POST /v1/verdicts without the decision log (bench/http_app_engine_only.py)",
    )
    args = parser.parse_args()
    wrk = ensure_wrk()
    contact = dict(examples.NORRBOTTEN_VIDEO, contact_id="bench-__ID__")
    post_script = POST_SCRIPT % json.dumps(contact)
    workers = args.workers or min(2 * os.cpu_count() + 1, 8)
    print(f"wrk: {args.connections} connections, {args.threads} threads, {args.duration} s each;", end=" ")
    print(f"gunicorn {workers} workers")
    with gunicorn(workers=workers) as (base, proc):
        warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
        run_wrk(wrk, base + "/health", "", warm_up)
        rounds = []
        for number in range(args.rounds):
            health = run_wrk(wrk, base + "/health", "", args)
            if number == 0:
                # Each worker's first verdicts (contracts, the decision log's connection) are not
                # timed either; after /health, whose figure the checkpoint of these would lower.
                run_wrk(wrk, base + "/v1/verdicts", post_script, warm_up)
                rss_before = {pid: rss_mb(pid) for pid in worker_pids(proc.pid)}
            verdicts = run_wrk(wrk, base + "/v1/verdicts", post_script, args)
            rounds.append((health, verdicts))
            time.sleep(SETTLE_SECONDS)
        rss_after = {pid: rss_mb(pid) for pid in worker_pids(proc.pid)}
        metrics = metrics_text(base)
        statuses = _statuses(metrics, "/v1/verdicts")
        shared = per_transaction(metrics)
    for number, (health, verdicts) in enumerate(rounds, 1):
        print(f"  round {number}:")
        for name, result in (("GET /health", health), ("POST /v1/verdicts", verdicts)):
            print(f"    {name:18} {result['rps']:8,.0f} req/s", end="")
            print(f"  p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms", end="")
            print(f"  ({result['requests']:,} requests, {result['non_2xx']} non-2xx,", end=" ")
            print(f"{result['socket_errors']} socket errors)")
        print(f"    POST /v1/verdicts at {verdicts['rps'] / health['rps']:.0%} of GET /health")
    print(f"  POST /v1/verdicts answers by status (from /metrics): {statuses}")
    if shared is not None:
        print(f"  single verdicts per decision-log transaction (group commit, from /metrics): {shared:.2f}")
    # Measured after round 1's /health and the POST warm-up: every POST round and later /health.
    since = sum(v["requests"] for _, v in rounds) + sum(h["requests"] for h, _ in rounds[1:])
    _print_worker_rss(rss_before, rss_after, since)
    ratio = statistics.median(verdicts["rps"] / health["rps"] for health, verdicts in rounds)
    failed = any(result["non_2xx"] or result["socket_errors"] for pair in rounds for result in pair)
    ok = ratio >= 0.5 and not failed
    print(f"  POST /v1/verdicts at {ratio:.0%} of GET /health, median of {len(rounds)} rounds (goal >= 50 %)")
    health = rounds[-1][0]
    if args.engine_only:
        with gunicorn(workers=workers, app="http_app_engine_only:create()") as (base, _proc):
            run_wrk(wrk, base + "/health", "", warm_up)
            bare = run_wrk(wrk, base + "/v1/verdicts", post_script, args)
        print(f"  POST /v1/verdicts without the decision log: {bare['rps']:,.0f} req/s", end="")
        print(f"  p50 {bare['p50_ms']:.2f} ms  p99 {bare['p99_ms']:.2f} ms", end="")
        print(f" ({bare['rps'] / health['rps']:.0%} of /health)")
    print("PASS" if ok else "FAIL: a goal was missed")
    return 0 if ok else 1


def _print_worker_rss(before: dict[int, float], after: dict[int, float], requests: int) -> None:
    """Workers are not recycled (GUNICORN_MAX_REQUESTS=0): their memory should not grow with the
    requests they answer. A worker replaced during the run has no 'before' and is not counted."""
    growth = [after[pid] - before[pid] for pid in after if pid in before]
    low, high = min(before.values()), max(before.values())
    print(f"  worker RSS after the warm-up {low:.0f}–{high:.0f} MB,", end=" ")
    low, high = min(after.values()), max(after.values())
    print(f"after {requests:,} more requests {low:.0f}–{high:.0f} MB", end="")
    print(f" (growth per worker {min(growth):+.1f} to {max(growth):+.1f} MB)" if growth else "")


if __name__ == "__main__":
    sys.exit(main())
