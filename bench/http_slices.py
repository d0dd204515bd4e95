"""GET /health and stored POST /v1/verdicts in 1-second wrk slices, alternating, with the server's CPU
per request: for A/B tests of server settings on a machine whose figures drift within minutes.

Each slice prints requests/s, p50, the CPU all server processes (master, workers, batch helpers)
used per request, and whether a worker process was replaced during it (a CPU figure is then
left out). The end prints the median of each endpoint, their ratio, and the single verdicts per
decision-log transaction. Settings the server reads from the environment apply as usual, e.g.

    GUNICORN_MAX_REQUESTS=10000 .venv/bin/python bench/http_slices.py --workers 5 --slices 20
"""

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_load  # noqa: E402
from http_server import child_pids, cpu_ticks, gunicorn  # noqa: E402

from api import examples  # noqa: E402

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def server_processes(master: int) -> list[int]:
    workers = child_pids(master)
    return [master, *workers, *(helper for worker in workers for helper in child_pids(worker))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=min(2 * os.cpu_count() + 1, 8))
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--slices", type=int, default=20, help="1-second slices, 5 of each endpoint in turn")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    wrk = http_load.ensure_wrk()
    post = http_load.POST_SCRIPT % json.dumps(dict(examples.NORRBOTTEN_VIDEO, contact_id="bench-__ID__"))
    slice_args = argparse.Namespace(threads=2, connections=args.connections, duration=1)
    results: dict[str, list[tuple[float, float | None]]] = {"/health": [], "/v1/verdicts": []}
    print(f"gunicorn {args.workers} workers x {args.threads} threads; wrk {args.connections} connections")
    with gunicorn(workers=args.workers, threads=args.threads) as (base, proc):
        http_load.run_wrk(wrk, base + "/health", "", slice_args)  # warm-up of both
        http_load.run_wrk(wrk, base + "/v1/verdicts", post, slice_args)
        for number in range(args.slices):
            path, script = ("/health", "") if (number // 5) % 2 == 0 else ("/v1/verdicts", post)
            pids = server_processes(proc.pid)
            before = sum(map(cpu_ticks, pids))
            result = http_load.run_wrk(wrk, base + path, script, slice_args)
            replaced = set(pids) != set(server_processes(proc.pid))
            per_request = None
            if not replaced:
                per_request = (sum(map(cpu_ticks, pids)) - before) * TICK_US / max(result["requests"], 1)
            results[path].append((result["rps"], per_request))
            cpu = "worker replaced" if replaced else f"server CPU {per_request:5.0f} µs/request"
            print(f"  {path:13} {result['rps']:7,.0f} req/s  p50 {result['p50_ms']:5.1f} ms  {cpu}")
        shared = http_load.per_transaction(http_load.metrics_text(base))
    medians = {}
    for path, slices in results.items():
        rates = [rps for rps, _ in slices]
        costs = [cost for _, cost in slices if cost is not None]
        medians[path] = statistics.median(rates)
        cost = f"{statistics.median(costs):.0f} µs/request" if costs else "n/a"
        print(f"{path:13} median {medians[path]:7,.0f} req/s, server CPU {cost}")
    print(f"POST /v1/verdicts at {medians['/v1/verdicts'] / medians['/health']:.0%} of GET /health (medians)")
    if shared is not None:
        print(f"single verdicts per decision-log transaction: {shared:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
