"""Readiness checks behind GET /ready: the policy is loaded, and whatever else an extension adds.

Storage registers its own with `add_readiness_check(app, "storage", check)`; a check returns None
when fine and raises (any exception) when not ready. Only the check's name and the exception's
class reach the client, and the message is logged; except for NotReady, whose message is written
for the client (free of secrets), e.g. "failing: the decision store cannot be reached (...)".
A check may also return a warning, words for the client too: something an operator must fix while
the service still serves (the API key file cannot be used, so the keys loaded before stay in use).
It is shown as "warning: ..." and leaves the service ready: taking every instance that shares the
file out of rotation would lock out every client, the very thing the old keys prevent.
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app

import rules

EXTENSION = "utomlans.readiness_checks"
FAILING = "failing: "
log = logging.getLogger("api.readiness")


class NotReady(Exception):
    """Raised by a check to say why it is not ready, in words safe to show any caller."""


def init_app(app: Flask, policy: rules.Policy) -> None:
    def policy_loaded() -> None:
        if not policy.rules or not policy.national:
            raise RuntimeError("policy has no rules or no national layer")

    app.extensions[EXTENSION] = {"policy": policy_loaded}


def add_readiness_check(app: Flask, name: str, check: Callable[[], str | None]) -> None:
    app.extensions[EXTENSION][name] = check


def run_checks() -> dict[str, str]:
    """{name: "ok" | "warning: <text>" | "failing: <NotReady reason>" | "failing: ExceptionClass"}
    for every check."""
    results = {}
    for name, check in current_app.extensions[EXTENSION].items():
        try:
            warning = check()
        except Exception as exc:  # a readiness probe reports failures, it must not raise
            log.warning("readiness check %s failed: %s", name, exc, exc_info=exc)
            shown = str(exc) if isinstance(exc, NotReady) else type(exc).__name__
            results[name] = f"{FAILING}{shown}"
        else:
            results[name] = "ok" if warning is None else f"warning: {warning}"
    return results


def is_ready(results: dict[str, str]) -> bool:
    return not any(result.startswith(FAILING) for result in results.values())
