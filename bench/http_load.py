"""Stored single verdicts under load: POST /v1/verdicts beside GET /health, with wrk, on real gunicorn.

Goal: at 16 connections, POST /v1/verdicts (every verdict stored) answers with a p99 latency of at
most 50 ms (judged on the median of the rounds' p99). Printed beside it, from the same run:
requests/s and latency of GET /health and of the POSTs, and, on SQLite, the peak size of the
decision log's `-wal` file, sampled every 20 ms while the load runs (it should stay bounded: the
same from round to round, not growing with the verdicts stored).

Real gunicorn with the shipped config (bench/server.py), a new decision log. Each round measures
/health, then POST; every POST carries a new contact_id, so each is a first decision and is stored.
Each endpoint first gets an untimed warm-up. wrk comes from Debian (`apt-get install wrk`),
installed here when missing and running as root.

    .venv/bin/python bench/http_load.py [--duration 10] [--rounds 3] [--connections 16] [--threads 2]
        [--database sqlite|postgresql] [--workers N]
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
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from server import DATABASES, config_workers, gunicorn  # noqa: E402
from synthetic_contacts import contacts  # noqa: E402

GOAL_P99_MS = 50
WARM_UP_SECONDS = 2

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
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing and this is not root: apt-get install wrk")
    print("installing wrk (Debian package)", file=sys.stderr)
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=300)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=environ, timeout=300)
    return shutil.which("wrk") or "/usr/bin/wrk"


def run_wrk(wrk: str, url: str, script: str, duration: int, args) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + REPORT)
        path = f.name
    try:
        command = [wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s"]
        command += ["--latency", "-s", path, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=True)
        out = done.stdout
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
        "errors": status_errors + socket_errors,
        "requests": requests,
    }


class FileSizeSampler:
    """The largest size a file reaches while sampling is on (0 while it does not exist)."""

    def __init__(self, path: Path, every: float = 0.02):
        self.path, self.every = path, every
        self.peak = 0
        self._on = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def window(self) -> int:
        """Start a new window; return the peak of the one before."""
        peak, self.peak = self.peak, 0
        return peak

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _sample(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.size())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3, help="/health then POST, this many times")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: the config's)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    wrk = ensure_wrk()
    contact = dict(next(contacts(1, seed=16)), contact_id="load-__ID__")
    post_script = POST_SCRIPT % json.dumps(contact)
    warm_up = min(WARM_UP_SECONDS, args.duration)
    print(
        f"http_load: wrk {args.connections} connections, {args.threads} threads, {args.duration} s per "
        f"endpoint, {args.rounds} rounds; gunicorn -c api/gunicorn.conf.py, "
        f"{args.workers or config_workers()} workers, {args.database}"
    )
    rounds = []
    with gunicorn(args.database, workers=args.workers) as server:
        wal = server.sqlite_path.with_name(server.sqlite_path.name + "-wal") if server.sqlite_path else None
        with FileSizeSampler(wal or Path(os.devnull)) as sampler:
            run_wrk(wrk, server.base + "/health", "", warm_up, args)
            run_wrk(wrk, server.base + "/v1/verdicts", post_script, warm_up, args)
            for _ in range(args.rounds):
                health = run_wrk(wrk, server.base + "/health", "", args.duration, args)
                sampler.window()
                verdicts = run_wrk(wrk, server.base + "/v1/verdicts", post_script, args.duration, args)
                rounds.append((health, verdicts, sampler.window()))
            wal_end = sampler.size()
        database_mb = server.sqlite_path.stat().st_size / 1e6 if server.sqlite_path else None
    for number, (health, verdicts, wal_peak) in enumerate(rounds, 1):
        print(f"  round {number}:")
        for name, result in (("GET /health", health), ("POST /v1/verdicts", verdicts)):
            print(
                f"    {name:18} {result['rps']:8,.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
                f"p99 {result['p99_ms']:6.2f} ms  "
                f"({result['requests']:,} requests, {result['errors']} errors)"
            )
        line = f"    POST at {verdicts['rps'] / health['rps']:.0%} of the /health rate"
        if wal:
            line += f"; peak -wal file during the POSTs {wal_peak / 1e6:.1f} MB"
        print(line)
    p99 = statistics.median(verdicts["p99_ms"] for _, verdicts, _ in rounds)
    failed = sum(result["errors"] for health, verdicts, _ in rounds for result in (health, verdicts))
    ok = p99 <= GOAL_P99_MS and not failed
    print(
        f"  POST /v1/verdicts p99 {p99:.1f} ms, median of {len(rounds)} rounds "
        f"(goal <= {GOAL_P99_MS} ms: {'met' if p99 <= GOAL_P99_MS else 'MISSED'})"
    )
    if wal:
        peak = max(wal_peak for _, _, wal_peak in rounds)
        print(
            f"  -wal file: peak {peak / 1e6:.1f} MB during the POST rounds, {wal_end / 1e6:.1f} MB at the "
            f"end; database file {database_mb:.1f} MB"
        )
    if failed:
        print(f"  {failed} requests failed (non-2xx or socket errors)")
    print("PASS" if ok else "FAIL: a goal was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
