"""A private PostgreSQL 15 cluster for tests and benchmarks: initdb, start, stop, in a temp dir.

The server refuses to run as root, so as root it runs as the postgres user (runuser). Every step
is bounded in time.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


# The tests' clusters order text as a Swedish production database may, not bytewise as SQLite
# does: an answer whose order depends on the database's collation differs between the two there.
TESTS_ICU_LOCALE = "sv-SE"


def available() -> bool:
    return (PG_BIN / "pg_ctl").is_file() and (PG_BIN / "initdb").is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PrivatePostgres:
    """`icu_locale` (e.g. "sv-SE"): the databases order text by that ICU collation, as a production
    database created with a language's locale would, instead of the machine's default."""

    def __init__(self, *, fsync: bool = False, icu_locale: str | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix="pgtest-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self.fsync = fsync
        subprocess.run(
            _as_owner(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    *(["--locale-provider=icu", f"--icu-locale={icu_locale}"] if icu_locale else []),
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        if not self.fsync:
            options += " -c fsync=off"
        subprocess.run(
            _as_owner(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.dir / "server.log"),
                    "-w",
                    "-t",
                    "30",
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"]),
            capture_output=True,
            timeout=60,
        )

    def create_database(self, name: str) -> str:
        psql(self.url(), f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL (postgresql+psycopg://) as psycopg.connect takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def psql(url: str, sql: str) -> None:
    """Run one statement in autocommit (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
