"""gunicorn settings: `gunicorn -c api/gunicorn.conf.py 'api:create_app()'` (what `make run` and the
Dockerfile run). Every value can be set from the environment.

- Workers: WEB_CONCURRENCY, else 2 x CPU + 1, at most 8 (each worker holds its own compiled policy,
  and a worker deciding a 100,000-line batch needs a few hundred MB while it runs).
- gthread workers with a few threads: keep-alive for billing systems that send many single
  verdicts, and a slow client does not hold a whole worker. Our subclass (api/gunicorn_worker.py)
  answers gunicorn's own errors (a request it cannot parse) as problem+json.
- timeout 120 s: a 100,000-line batch takes a few seconds of CPU; 120 s leaves room on a loaded host.
- No recycling of workers by default (GUNICORN_MAX_REQUESTS, 0 = never): a worker's start is
  costly (imports, policy, app) and no leak calls for it. Set it where a leak is suspected.
- No preload: each worker loads the policy itself (a few ms), so nothing a worker opens (database
  pools of the storage layer) is shared across fork.
- Migrations run in the master before any worker starts (on_starting): a long one (migration 0003
  copies the SQLite decisions table) cannot hit a worker's timeout.
- Prometheus multiprocess mode: the metric files of all workers live in one directory, created
  here before any worker imports prometheus_client, removed at exit.
"""

import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile

_cpus = multiprocessing.cpu_count()

bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cpus + 1, 8))
worker_class = "api.gunicorn_worker.ThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 10)))
preload_app = False
# Request line and headers are small; the body limit is the app's (UTOMLANS_MAX_BODY_MB).
limit_request_line = 8190

loglevel = os.environ.get("LOG_LEVEL", "info")
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# One JSON object per line (api/access_log.py).
logger_class = "api.access_log.JsonAccessLogger"

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="utomlans-prometheus-")
    _owned_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
else:
    _owned_metrics_dir = None


def on_starting(server):
    """Bring the database to the newest schema before the workers start, in a process of its own
    (`python -m api.storage upgrade`): the master stays free of the app's libraries, so a HUP still
    starts workers on new code. A database that cannot be migrated stops the start here, with the
    reason in the log, as a worker failing to boot would."""
    if not _migrated(server):
        server.log.error("the database could not be migrated (the reason is above): not starting")
        sys.exit(1)


def on_reload(server):
    """A HUP (new code, perhaps new migrations): the same before the new workers start, while the
    old ones still serve; should it fail, each new worker tries again at its start."""
    if not _migrated(server):
        server.log.error("the database could not be migrated (the reason is above)")


def _migrated(server) -> bool:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `api` is, as here
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    server.log.info("migrating the database before the workers start")
    command = [sys.executable, "-m", "api.storage", "upgrade"]
    return subprocess.run(command, env={**os.environ, "PYTHONPATH": path}).returncode == 0


def post_worker_init(worker):
    """The app, its compiled policy and the libraries live as long as the worker: moved out of the
    cyclic garbage collector's reach, so the collections a large batch sets off do not walk them
    again and again. A young collection every 20,000 new objects instead of 700: a batch's lines
    are many small dicts that live as long as the request, and at 700 the collector walked them
    again and again while the batch was decided."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _owned_metrics_dir:
        shutil.rmtree(_owned_metrics_dir, ignore_errors=True)


# gunicorn >= 24's control socket would be shared by every server of one user (tests, benchmarks,
# a second instance): this service does not use it.
control_socket_disable = True
