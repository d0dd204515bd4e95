"""The service under real gunicorn for the HTTP benchmarks, and the HTTP calls they make.

`gunicorn(database)` runs the shipped command, `gunicorn -c api/gunicorn.conf.py 'api:create_app()'`
(what `make run` and the Dockerfile run), on a free port with a decision log of its own, and always
stops it:
- "sqlite": the default SQLite decision log, a file in a temporary directory (DATABASE_PATH);
- "postgresql": a private PostgreSQL 15 cluster (tests/storage/pgserver.py) with fsync on, the
  default durability, removed after (DATABASE_URL).
Only the environment differs from `make run`: the bind address, the database, the worker count when
one is asked for (else the config's default) and no access log (it would measure the log file).

The benchmarks see the service only through HTTP and /proc: nothing here reaches into api/storage.
"""

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import orjson

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.storage import pgserver  # noqa: E402
from tests.storage.gunicorn_server import running_gunicorn, worker_pids  # noqa: E402

DATABASES = ("sqlite", "postgresql")


def config_workers() -> int:
    """The worker count api/gunicorn.conf.py chooses here, read from the config itself (run in a
    process of its own; with PROMETHEUS_MULTIPROC_DIR set it creates no directory)."""
    read = "import runpy, sys; print(runpy.run_path(sys.argv[1])['workers'])"
    done = subprocess.run(
        [sys.executable, "-c", read, str(ROOT / "api" / "gunicorn.conf.py")],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": os.devnull},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout.strip())


@dataclass
class Server:
    base: str
    master: int
    database: str
    sqlite_path: Path | None  # the decision log's file, on SQLite

    def workers(self) -> list[int]:
        return worker_pids(self.master)


@contextlib.contextmanager
def _sigint_deferred():
    """Hold back Ctrl-C (or run_all.py's SIGINT) until the block ends: interrupted half-way, initdb
    would leave a cluster directory that nothing removes, pg_ctl a server that nothing stops."""
    pending = []
    previous = signal.signal(signal.SIGINT, lambda *_: pending.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _database(kind: str, tmp: Path):
    """Yield the environment that points the service at a new, empty decision log."""
    if kind == "sqlite":
        yield {"DATABASE_URL": None, "DATABASE_PATH": str(tmp / "decisions.sqlite3")}
    elif kind == "postgresql":
        if not pgserver.available():
            raise SystemExit(f"no PostgreSQL server binaries in {pgserver.PG_BIN}: cannot run on PostgreSQL")
        cluster = None
        try:
            with _sigint_deferred():  # initdb and pg_ctl start, each bounded in time, run to the end
                cluster = pgserver.PrivatePostgres(fsync=True)
                cluster.start()
            yield {"DATABASE_PATH": None, "DATABASE_URL": cluster.create_database("bench")}
        finally:
            if cluster is not None:
                cluster.destroy()
    else:
        raise ValueError(f"not a database the benchmarks know: {kind!r} (one of {DATABASES})")


@contextlib.contextmanager
def gunicorn(database: str = "sqlite", workers: int | None = None, startup_timeout: float = 60.0):
    """Yield a running Server; stopped (and its database removed) on exit, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="utomlans-bench-") as tmp, _database(database, Path(tmp)) as env:
        env.update(GUNICORN_ACCESS_LOG="", LOG_LEVEL="warning")
        with running_gunicorn(
            Path(tmp) / "gunicorn.log",
            workers=workers or config_workers(),
            env=env,
            startup_timeout=startup_timeout,
        ) as (base, proc):
            path = env.get("DATABASE_PATH")
            yield Server(base, proc.pid, database, Path(path) if path else None)


def status_mb(pid: int, field: str = "VmRSS") -> float:
    """A field of /proc/<pid>/status in MB: VmRSS now, VmHWM the peak over the process's life."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def request(base: str, method: str, path: str, body: bytes | None = None, timeout: float = 300.0):
    """(seconds from sending to the last byte of the answer, status, body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return time.perf_counter() - started, response.status, data
    finally:
        conn.close()


def post_batch(base: str, body: bytes, timeout: float = 300.0) -> tuple[float, dict]:
    """POST /v1/verdicts/batch: (seconds end to end, the parsed answer); an error status raises."""
    elapsed, status, data = request(base, "POST", "/v1/verdicts/batch", body, timeout)
    if status != 200:
        raise RuntimeError(f"batch answered {status}: {data[:500]!r}")
    return elapsed, orjson.loads(data)


def count_decisions(base: str, timeout: float = 600.0) -> int:
    """How many decisions GET /v1/decisions lists, page by page (1,000 a page)."""
    deadline = time.monotonic() + timeout
    count, cursor = 0, None
    while time.monotonic() < deadline:
        query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        _, status, data = request(base, "GET", "/v1/decisions?" + urlencode(query))
        if status != 200:
            raise RuntimeError(f"GET /v1/decisions answered {status}: {data[:500]!r}")
        page = orjson.loads(data)
        count += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return count
    raise RuntimeError(f"counting the stored decisions took over {timeout:.0f} s")
