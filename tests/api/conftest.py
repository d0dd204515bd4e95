"""Fixtures for the HTTP service tests: an app, its test client, example contacts, live gunicorn."""

import copy
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from api import create_app, examples

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app():
    app = create_app({"TESTING": True})
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def contact():
    """A valid contact: Norrbotten video contact 2022-03-01 with an uncontracted provider."""
    return copy.deepcopy(examples.NORRBOTTEN_VIDEO)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(tmp_path):
    """Real gunicorn (the `make run` command) on a free port with 2 workers; stopped after the test."""
    port = _free_port()
    env = dict(os.environ)
    env.update(BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", DATABASE_PATH=str(tmp_path / "live.sqlite3"))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-c", "api/gunicorn.conf.py", "api:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer /health within 30 s"
                time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
