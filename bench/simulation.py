"""Policy simulation speed and memory: 1,000,000 contacts x 3 scenarios.

Goals: at most 60 s per million contacts (file read included) and under 1 GB RSS.

Generates a synthetic year (`python -m rules generate --year 2020 --count N`, SYNTHETIC DATA) into
a temporary file, then times `python -m rules simulate FILE -s in_force -s national_only
-s ds_2023_27` in a subprocess. Memory is the peak of the summed RSS of the command and its worker
processes, sampled from /proc every 50 ms (the workers are separate processes: the peak of one
alone would understate it).

Run: .venv/bin/python bench/simulation.py [--count 1000000] [--processes N]
"""

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOAL_SECONDS = 60
GOAL_MB = 1024
SCENARIOS = ["in_force", "national_only", "ds_2023_27"]


def _tree_rss_kib(pid: int) -> int:
    """RSS of a process and all its descendants, KiB (0 once it is gone)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def _run_sampled(command: list[str]) -> tuple[float, int, bytes, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()
    code = proc.wait()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return elapsed, peak, stderr, code


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=None, help="worker processes (default: cores)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="simulation-bench-") as tmp:
        data = Path(tmp) / "contacts.jsonl"
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rules",
                "generate",
                "--year",
                "2020",
                "--count",
                str(args.count),
                "-o",
                str(data),
            ],
            cwd=ROOT,
            check=True,
            stderr=subprocess.DEVNULL,
        )
        generated = time.perf_counter() - start
        print(
            f"simulation: generated {args.count:,} synthetic contacts "
            f"({data.stat().st_size / 1e6:.0f} MB JSON Lines) in {generated:.1f} s"
        )
        command = [sys.executable, "-m", "rules", "simulate", str(data), "-o", str(Path(tmp) / "result.json")]
        for name in SCENARIOS:
            command += ["-s", name]
        command.append("--no-progress")
        if args.processes:
            command += ["--processes", str(args.processes)]
        elapsed, peak_kib, stderr, code = _run_sampled(command)
    if code != 0:
        print(stderr.decode(errors="replace"), file=sys.stderr)
        return 1
    for line in stderr.decode(errors="replace").strip().splitlines():
        print(f"  {line}")
    per = elapsed / (args.count * len(SCENARIOS)) * 1e6
    peak_mb = peak_kib / 1024
    print(
        f"simulation: {args.count:,} contacts x {len(SCENARIOS)} scenarios in {elapsed:.1f} s "
        f"({args.count / elapsed:,.0f} contacts/s, {per:.1f} µs per contact-scenario, file read included); "
        f"peak RSS of the process tree {peak_mb:.0f} MB"
    )
    ok_time = elapsed <= GOAL_SECONDS * args.count / 1_000_000
    ok_memory = peak_mb < GOAL_MB
    print(
        f"simulation: goal <= {GOAL_SECONDS} s per million: {'met' if ok_time else 'MISSED'}; "
        f"goal < {GOAL_MB} MB: {'met' if ok_memory else 'MISSED'}"
    )
    print("PASS" if ok_time and ok_memory else "FAIL: a goal was missed")
    return 0 if ok_time and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
