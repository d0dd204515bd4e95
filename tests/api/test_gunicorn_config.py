"""The shipped gunicorn settings (api/gunicorn.conf.py), as operators set them from the environment."""

import multiprocessing
import runpy
from pathlib import Path

import pytest
from gunicorn.http import errors
from gunicorn.workers import gthread

from api.gunicorn_worker import ThreadWorker, status_of

CONFIG = Path(__file__).resolve().parents[2] / "api" / "gunicorn.conf.py"


def _settings(monkeypatch, tmp_path, **environ) -> dict:
    for name in ("WEB_CONCURRENCY", "GUNICORN_MAX_REQUESTS", "GUNICORN_MAX_REQUESTS_JITTER", "BIND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # else the file makes its own
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_defaults_size_workers_from_the_cpus_and_never_recycle_them(monkeypatch, tmp_path):
    settings = _settings(monkeypatch, tmp_path)
    assert settings["workers"] == min(2 * multiprocessing.cpu_count() + 1, 8)
    # gunicorn's gthread worker, answering gunicorn's own errors as problem+json.
    assert settings["worker_class"] == "api.gunicorn_worker.ThreadWorker"
    assert issubclass(ThreadWorker, gthread.ThreadWorker)
    # A worker's start is costly and no leak calls for recycling.
    assert settings["max_requests"] == 0
    assert settings["bind"] == "127.0.0.1:8000"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GUNICORN_MAX_REQUESTS": "200000"}, (200000, 20000)),
        ({"GUNICORN_MAX_REQUESTS": "200000", "GUNICORN_MAX_REQUESTS_JITTER": "7"}, (200000, 7)),
    ],
)
def test_recycling_is_switched_on_from_the_environment(monkeypatch, tmp_path, environ, expected):
    settings = _settings(monkeypatch, tmp_path, **environ)
    assert (settings["max_requests"], settings["max_requests_jitter"]) == expected


def test_worker_count_and_bind_come_from_the_environment(monkeypatch, tmp_path):
    settings = _settings(monkeypatch, tmp_path, WEB_CONCURRENCY="3", BIND="0.0.0.0:9000")
    assert settings["workers"] == 3 and settings["bind"] == "0.0.0.0:9000"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.LimitRequestLine(9000, 8190), 414),
        (errors.LimitRequestHeaders("limit request headers fields"), 431),
        (errors.InvalidHeader("CONTENT-LENGTH"), 400),
        (errors.InvalidRequestLine("HELLO"), 400),
        (errors.UnsupportedTransferCoding("gzip"), 501),
        (errors.InvalidResponseHeader("X-Bad"), 500),  # the app's header, though an InvalidHeader
        (RuntimeError("anything else"), 500),
    ],
)
def test_the_worker_answers_gunicorns_errors_with_gunicorns_statuses(error, status):
    assert status_of(error)[0] == status
