"""Real gunicorn, started as `make run` starts it (api/gunicorn.conf.py), on a free port: for the
tests that need a live server (tests/api, the fault tests) and for the HTTP benchmarks (bench/)."""

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from .pgserver import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def worker_pids(master: int) -> list[int]:
    """The processes a gunicorn master started: its workers."""
    pids = []
    for task in Path(f"/proc/{master}/task").iterdir():
        pids.extend(int(child) for child in (task / "children").read_text().split())
    return pids


@contextlib.contextmanager
def running_gunicorn(
    log_path: Path,
    *,
    workers: int = 2,
    env: dict[str, str | None] | None = None,
    app: str = "api:create_app()",
    pythonpath: str | None = None,
    startup_timeout: float = 60.0,
):
    """Yield (base_url, process) once /health answers with every worker up; SIGTERM on exit (kill
    after 30 s). `env` is set over this process's environment (None removes a variable); the
    server's output goes to `log_path`, which a failed start shows."""
    port = free_port()
    environ = dict(os.environ)
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each server makes (and removes) its own
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    environ.update(BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers))
    extra = ["--pythonpath", pythonpath] if pythonpath else []
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "api/gunicorn.conf.py", *extra, app],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as response:
                return response.status == 200 and len(worker_pids(proc.pid)) >= workers
        except OSError:
            return False

    try:
        if not wait_until(up, timeout=startup_timeout):
            raise RuntimeError(
                f"gunicorn did not start within {startup_timeout:.0f} s:\n{log_path.read_text()}"
            )
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
