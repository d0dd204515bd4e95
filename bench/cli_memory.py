"""Peak memory of the command line, `python -m rules evaluate`, on 1,000,000 lines.

Goal: under 200 MB RSS. Writes seeded synthetic contacts (bench/synthetic_contacts.py) as JSON Lines
to a temporary file, runs the command on it in a subprocess with the verdicts sent to /dev/null, and
reads the child's own peak RSS from os.wait4 (ru_maxrss, KiB on Linux). Linux carries the parent's
high-water mark into the child, so this is an upper bound (this script keeps little in memory). The
time taken is printed too; it has no goal.

Run: .venv/bin/python bench/cli_memory.py [--lines 1000000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from synthetic_contacts import contacts  # noqa: E402

LIMIT_MB = 200


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cli-memory-") as tmp:
        source = Path(tmp) / "contacts.jsonl"
        start = time.perf_counter()
        with source.open("wb") as out:
            for data in contacts(args.lines, seed=7):
                out.write(orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE))
        written = time.perf_counter() - start
        size_mb = source.stat().st_size / 1e6
        print(f"cli_memory: {args.lines} lines, {size_mb:.0f} MB of JSON Lines written in {written:.1f} s")
        command = [sys.executable, "-m", "rules", "evaluate", str(source), "-o", os.devnull, "--no-progress"]
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024
    summary = stderr.decode(errors="replace").strip().splitlines()
    print(f"  exit {code}; {summary[0] if summary else 'no summary'}")
    print(f"  peak RSS {peak_mb:.1f} MB (goal < {LIMIT_MB} MB: {'met' if peak_mb < LIMIT_MB else 'MISSED'})")
    per_line = elapsed / args.lines * 1e6
    cpu = usage.ru_utime + usage.ru_stime
    rate = args.lines / elapsed
    print(f"  wall {elapsed:.1f} s = {per_line:.1f} µs per line ({rate:,.0f} lines/s), CPU {cpu:.1f} s")
    print(f"  python {sys.version.split()[0]}, {os.cpu_count()} cores")
    ok = code == 0 and peak_mb < LIMIT_MB
    print("PASS" if ok else "FAIL: a goal was missed" if code == 0 else "FAIL: the command failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
