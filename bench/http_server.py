"""Start the service under real gunicorn for the HTTP benchmarks, on a free port, and stop it after.

Same command as `make run` and the Dockerfile, with the bind address and worker count overridden
through the environment the gunicorn config reads.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(master_pid: int) -> list[int]:
    pids = []
    task_dir = Path(f"/proc/{master_pid}/task")
    for task in task_dir.iterdir():
        children = (task / "children").read_text().split()
        pids.extend(int(pid) for pid in children)
    return pids


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


@contextlib.contextmanager
def gunicorn(workers: int, threads: int = 4, startup_timeout: float = 30.0, app: str = "api:create_app()"):
    """Yield (base_url, process) of a running server; always stopped on exit."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers),
        GUNICORN_THREADS=str(threads),
        GUNICORN_ACCESS_LOG="",  # access logging would measure the terminal, not the service
        LOG_LEVEL="warning",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if "DATABASE_URL" not in env:  # the default SQLite decision log, in a throwaway directory
        env["DATABASE_PATH"] = str(Path(tempfile.mkdtemp(prefix="utomlans-bench-")) / "decisions.sqlite3")
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", "api/gunicorn.conf.py", "--pythonpath", str(ROOT / "bench"), app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}: {proc.stderr.read()}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as response:
                    if response.status == 200 and len(worker_pids(proc.pid)) >= workers:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /health in time")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
