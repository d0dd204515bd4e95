"""Bearer API keys on /v1: scopes `verdicts`, `decisions:read`, `contracts:admin`, `audit:read`,
`policy:admin`.

One before_request hook maps the path to the scope it needs (table below), so no view can forget
its check. No keys configured: open for local use (client "anonymous") with a warning at start;
POLICY_ENV=production (in any case) refuses to start without keys. 401 (no or unknown key, with
WWW-Authenticate: Bearer) and 403 (known key, wrong scope) are problem+json. What a key's regions
allow is checked where the contact or contract is known (api/key_regions.py); the OpenAPI side of
all this is api/openapi_security.py. The key's id, never the key, goes into the WSGI environ for
the JSON access log (api/access_log.py).
"""

import logging
import os

from flask import Flask, current_app, g, request

from . import readiness
from .access_log import CLIENT
from .keys import KeyRing
from .problem import problem

EXTENSION = "utomlans.keyring"
ANONYMOUS = "anonymous"
SECURITY_SCHEME = "bearerAuth"
log = logging.getLogger("api.auth")

# Path prefix -> scope needed; the first match wins. Paths not listed (health, ready, metrics,
# catalogue, docs, openapi.json) are open.
SCOPE_BY_PREFIX = (
    ("/v1/verdicts", "verdicts"),
    ("/v1/decisions", "decisions:read"),
    ("/v1/contracts", "contracts:admin"),
    ("/v1/simulations/readjudication", "decisions:read"),  # reads the decision log
    ("/v1/simulations", "verdicts"),
    ("/v1/access-log", "audit:read"),  # who read which decisions
    ("/v1/policy-versions", "policy:admin"),  # the policies stored, their impact, activation
    ("/v1/shadow", "policy:admin"),
)


class StartupRefused(RuntimeError):
    pass


def init_app(app: Flask, keyring: KeyRing | None = None) -> None:
    keyring = keyring or KeyRing(
        app.config.get("API_KEYS_FILE") or os.environ.get("API_KEYS_FILE") or None,
        app.config.get("API_KEYS") or os.environ.get("API_KEYS") or None,
    )
    environment = app.config.get("POLICY_ENV") or os.environ.get("POLICY_ENV", "")
    if not keyring.configured:
        if environment.strip().casefold() == "production":  # Production, PRODUCTION: all the same
            raise StartupRefused(
                "POLICY_ENV=production and no API keys configured: set API_KEYS_FILE or API_KEYS "
                "(make keys with `python -m api.keys new`)."
            )
        log.warning("no API keys configured (API_KEYS_FILE, API_KEYS): the service is OPEN to every caller")
    app.extensions[EXTENSION] = keyring
    if keyring.file is not None:
        readiness.add_readiness_check(app, "keys", keyring.warning)
    app.before_request(_authorize)


def scope_for(path: str) -> str | None:
    for prefix, scope in SCOPE_BY_PREFIX:
        if path == prefix or path.startswith(prefix + "/"):
            return scope
    return None


def current_client() -> str:
    """The key id of the caller, or "anonymous" (open mode, or outside a request)."""
    return g.get("api_client", ANONYMOUS) if _in_request() else ANONYMOUS


def current_regions() -> frozenset[str] | None:
    """The regions the caller's key acts for; None for every region (a "*" key, or open mode)."""
    return g.get("api_regions") if _in_request() else None


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _authorize():
    scope = scope_for(request.path)
    if scope is None:
        return None
    keyring: KeyRing = current_app.extensions[EXTENSION]
    if not keyring.configured:
        g.api_client = request.environ[CLIENT] = ANONYMOUS
        return None
    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        return _unauthorized("Send an API key: `Authorization: Bearer <key>`.")
    key = keyring.authenticate(secret.strip())
    if key is None:
        return _unauthorized("The API key is not known (or was revoked).", error="invalid_token")
    request.environ[CLIENT] = key.id  # a 403 too: the access log says which key was refused
    if scope not in key.scopes:
        return problem(
            403,
            f"The API key {key.id!r} lacks the scope {scope!r} this operation needs.",
            instance=request.path,
        )
    g.api_client = key.id
    g.api_regions = key.regions
    return None


def _unauthorized(detail: str, error: str | None = None):
    challenge = 'Bearer realm="utomlans"' + (f', error="{error}"' if error else "")
    return problem(401, detail, instance=request.path, headers={"WWW-Authenticate": challenge})
