"""Run every goal benchmark, one after the other, and say which goals were met (`make bench`).

Each script prints its figures and PASS or FAIL, and exits non-zero when a goal is missed. --quick
runs each at a tiny size to check that it starts, prints figures and stops its servers: those
figures say nothing about the goals. A script that runs past --timeout is interrupted (SIGINT, so
it stops its servers) and counted as failed.

    .venv/bin/python bench/run_all.py [--quick] [--timeout 1800] [name ...]
"""

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (script, arguments of the full run, arguments of a --quick run)
BENCHMARKS = {
    "engine_vs_zen": ("engine_vs_zen", [], ["--count", "1000", "--repeat", "2"]),
    "cli_memory": ("cli_memory", [], ["--lines", "2000"]),
    "simulation": ("simulation", [], ["--count", "2000"]),
    "http_batch": ("http_batch", [], "--contacts 500 --runs 2 --warm-up 1 --big 2000 --workers 2".split()),
    "http_load_sqlite": ("http_load", [], ["--duration", "1", "--rounds", "1", "--workers", "2"]),
    "http_load_postgresql": (
        "http_load",
        ["--database", "postgresql"],
        ["--database", "postgresql", "--duration", "1", "--rounds", "1", "--workers", "2"],
    ),
    "decision_filters": ("decision_filters", [], ["--rows", "20000"]),
    "policy_impact": ("policy_impact", [], ["--rows", "20000"]),
    "shadow_overhead": ("shadow_overhead", [], ["--requests", "50", "--warm-up", "10"]),
}


def run(script: str, args: list[str], timeout: float) -> int:
    proc = subprocess.Popen([sys.executable, str(HERE / f"{script}.py"), *args], cwd=HERE.parent)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"== {script}: over {timeout:.0f} s, interrupting it", flush=True)
        proc.send_signal(signal.SIGINT)  # KeyboardInterrupt: its finally blocks stop the servers
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return -1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per script")
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in BENCHMARKS:
            parser.error(f"not a benchmark: {name!r} (one of {', '.join(BENCHMARKS)})")
    results = {}
    for name in args.names or BENCHMARKS:
        script, full, quick = BENCHMARKS[name]
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        results[name] = run(script, quick if args.quick else full, args.timeout)
        print(f"== {name}: exit {results[name]} in {time.perf_counter() - start:.0f} s\n", flush=True)
    for name, code in results.items():
        print(f"{name:15} {'goals met' if code == 0 else 'FAILED or a goal missed'}")
    if args.quick:
        print("(--quick: tiny sizes; the figures and PASS/FAIL above do not judge the goals)")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
