"""Prometheus metrics: requests by endpoint and status, latency, decisions made by reason and
decision, identical resubmissions answered with a stored decision, rejected contacts, decisions
also decided under the version in shadow and those it decided otherwise.

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
SHADOWED = Counter(
    "utomlans_shadow_verdicts",
    "Decisions made while a version ran in shadow, also decided under it (GET /v1/shadow).",
)
SHADOW_DISAGREEMENTS = Counter(
    "utomlans_shadow_disagreements",
    "Decisions the version in shadow decided otherwise (decision, reason or amount).",
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


_REPLAY, _SHADOWED, _DISAGREED = "replay", "shadowed", "disagreed"


def outcomes(entries: Sequence[Pending], answers: Sequence[bytes]) -> collections.Counter:
    """How the decision log answered these entries: (reason, decision) -> decisions made now,
    "replay" -> identical resubmissions answered with their stored decision, and of the decisions
    made now, "shadowed" -> those also decided in shadow, "disagreed" -> those it decided
    otherwise. Tallies add up (a batch's chunks), to be counted once the transaction has committed."""
    tally = collections.Counter()
    for entry, answer in zip(entries, answers, strict=True):
        if not made_now(entry, answer):
            tally[_REPLAY] += 1
            continue
        tally[entry.reason, entry.decision] += 1
        if entry.shadow_version is not None:
            tally[_SHADOWED] += 1
            if entry.disagreement is not None:
                tally[_DISAGREED] += 1
    return tally


_SINGLE = {_REPLAY: REPLAYED, _SHADOWED: SHADOWED, _DISAGREED: SHADOW_DISAGREEMENTS}


def count_outcomes(tally: collections.Counter) -> None:
    """Add a tally of outcomes() to the counters: one update per reason."""
    for key, count in tally.items():
        if key in _SINGLE:
            _SINGLE[key].inc(count)
        else:
            VERDICTS.labels(*key).inc(count)


def exposition() -> tuple[bytes, str]:
    """The metrics text of every worker (multiprocess) or of this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
