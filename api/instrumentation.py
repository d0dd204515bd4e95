"""Prometheus metrics: requests by endpoint and status, latency, decisions made by reason and
decision, identical resubmissions answered with a stored decision, rejected contacts.

Under gunicorn the metrics live in files shared by all workers (prometheus_client multiprocess
mode): api/gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before any worker imports this module.
Without it (flask run, tests) each process counts on its own.
"""

import collections
import os
import time
from collections.abc import Sequence

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY

from .decision_entry import Pending
from .issuing import made_now

REQUESTS = Counter(
    "utomlans_http_requests",
    "HTTP requests answered, by route, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "utomlans_http_request_duration_seconds",
    "Time from request start to response, by route and method.",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
VERDICTS = Counter(
    "utomlans_verdicts",
    "Decisions made (new verdicts stored in the decision log), by reason and decision.",
    ["reason", "decision"],
)
REPLAYED = Counter(
    "utomlans_replayed_verdicts",
    "Submissions identical to a stored decision, answered with that decision: no decision made.",
)
REJECTED = Counter(
    "utomlans_rejected_contacts",
    "Contacts refused (single or in a batch): invalid, or outside the API key's regions.",
)


def _start() -> None:
    g.started = time.perf_counter()


def _finish(response):
    started = g.pop("started", None)
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(rule, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(rule, request.method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)


_REPLAY = "replay"


def outcomes(entries: Sequence[Pending], answers: Sequence[bytes]) -> collections.Counter:
    """How the decision log answered these entries: (reason, decision) -> decisions made now, and
    "replay" -> identical resubmissions answered with their stored decision. Tallies add up (a
    batch's chunks), to be counted once the transaction has committed."""
    return collections.Counter(
        (entry.reason, entry.decision) if made_now(entry, answer) else _REPLAY
        for entry, answer in zip(entries, answers, strict=True)
    )


def count_outcomes(tally: collections.Counter) -> None:
    """Add a tally of outcomes() to the counters: one update per reason."""
    for key, count in tally.items():
        if key == _REPLAY:
            REPLAYED.inc(count)
        else:
            VERDICTS.labels(*key).inc(count)


def exposition() -> tuple[bytes, str]:
    """The metrics text of every worker (multiprocess) or of this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
