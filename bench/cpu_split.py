"""Where the CPU of a stored 10,000-contact batch goes, per process: the gunicorn worker (request
thread and its SQLite checkpointer), its batch helper (api/batch_helper) and, on PostgreSQL, every
process of the server. One worker, so each batch's work is in one place; 6 timed batches.

On a 2-core machine the sum bounds the rate from above: 20,000 contacts/s needs less than 1,000 ms
of CPU per batch in all processes together, however well they overlap.

    .venv/bin/python bench/cpu_split.py [sqlite] [postgresql]
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from http_batch import post  # noqa: E402
from http_server import child_pids, cpu_ticks, gunicorn, worker_pids  # noqa: E402
from http_storage import batch  # noqa: E402

from api.storage import Storage  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP, RUNS = 2, 6


def cpu_seconds(pid: int) -> float:
    return cpu_ticks(pid) / TICKS


def run(name: str, url: str, postmaster: int | None = None) -> None:
    Storage.open(url).close()
    os.environ["DATABASE_URL"] = url
    bodies = [batch(seed) for seed in range(WARM_UP + RUNS)]
    with gunicorn(workers=1) as (base, proc):
        (worker,) = worker_pids(proc.pid)
        for body in bodies[:WARM_UP]:
            post(base, body)
        helpers = child_pids(worker)

        def sample():
            server = [postmaster, *child_pids(postmaster)] if postmaster else []
            return (
                cpu_seconds(worker),
                sum(map(cpu_seconds, helpers)),
                sum(map(cpu_seconds, server)),
            )

        before, started = sample(), time.perf_counter()
        for body in bodies[WARM_UP:]:
            post(base, body)
        wall, after = time.perf_counter() - started, sample()
    worker_ms, helper_ms, server_ms = ((b - a) / RUNS * 1000 for a, b in zip(before, after, strict=True))
    line = f"{name:10s} per batch: wall {wall / RUNS * 1000:.0f} ms; CPU worker {worker_ms:.0f} ms, "
    line += f"helper {helper_ms:.0f} ms"
    if postmaster:
        line += f", PostgreSQL {server_ms:.0f} ms"
    total = worker_ms + helper_ms + server_ms
    ceiling = 10_000 / (total / 1000 / 2)  # both cores busy all the time
    print(f"{line}; together {total:.0f} ms: at most {ceiling:,.0f} contacts/s on 2 cores")


def main(argv) -> int:
    wanted = argv or ["sqlite", "postgresql"]
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", f"sqlite:///{tmp}/bench.sqlite3")
    if "postgresql" in wanted:
        from tests.storage.pgserver import PrivatePostgres, available

        if not available():
            print("no PostgreSQL server binaries: PostgreSQL skipped")
            return 0
        server = PrivatePostgres(fsync=True)
        server.start()
        try:
            url = server.create_database("cpu_split")
            postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
            run("postgresql", url, postmaster)
        finally:
            server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
