"""Start the service under real gunicorn for the HTTP benchmarks, on a free port, and stop it after.

Same command as `make run` and the Dockerfile, with the bind address and worker count overridden
through the environment the gunicorn config reads.
"""

import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.storage.gunicorn_server import child_pids, cpu_ticks, running_gunicorn, worker_pids  # noqa: E402

__all__ = ["child_pids", "cpu_ticks", "gunicorn", "rss_mb", "worker_pids"]


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


@contextlib.contextmanager
def gunicorn(workers: int, threads: int = 4, startup_timeout: float = 30.0, app: str = "api:create_app()"):
    """Yield (base_url, process) of a running server; always stopped on exit."""
    env = {
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_ACCESS_LOG": "",  # access logging would measure the terminal, not the service
        "LOG_LEVEL": "warning",
    }
    with tempfile.TemporaryDirectory(prefix="utomlans-bench-") as tmp:
        if "DATABASE_URL" not in os.environ:  # the default SQLite decision log, thrown away after
            env["DATABASE_PATH"] = str(Path(tmp) / "decisions.sqlite3")
        with running_gunicorn(
            Path(tmp) / "gunicorn.log",
            workers=workers,
            env=env,
            app=app,
            pythonpath=str(ROOT / "bench"),
            startup_timeout=startup_timeout,
        ) as (base, proc):
            yield base, proc
