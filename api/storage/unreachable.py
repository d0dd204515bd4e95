"""Why the database cannot be reached, in words safe to show any caller of /ready.

The driver's message says why (refused, timed out, authentication failed, database missing) but
may also name the host, the port, the user or, in a connection string, the password: those are
cut out, and so is everything SQLAlchemy appends (the SQL, its help link).
"""

import re

from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError

# What SQLAlchemy raises when the database is down or cannot be reached (refused, lost, no pooled
# connection in time): the service answers 503 and retries nothing.
OUTAGES = (OperationalError, InterfaceError, TimeoutError)

_LIMIT = 200
_REDACTIONS = (
    (re.compile(r"(\w+://)[^\s@/]*@"), r"\1"),  # credentials in a URL
    (re.compile(r"(password|passwd|pwd)\s*=\s*\S+", re.IGNORECASE), r"\1=***"),
    (re.compile(r'(connection to server) (at|on socket) "[^"]*"( \([^)]*\))?(, port \d+)?'), r"\1"),
    (re.compile(r'\b(user|role|database) "[^"]*"'), r"\1"),
    (re.compile(r"\b(host) '[^']*'"), r"\1"),
    (re.compile(r"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b"), "<address>"),
)


def reason(error: BaseException) -> str:
    """ "unreachable: <the driver's message, redacted, on one line>" for a DBAPI error."""
    cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's exception
    text = str(cause).split("[SQL:", 1)[0].split("(Background on this error", 1)[0]
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if len(text) > _LIMIT:
        text = text[: _LIMIT - 1] + "…"
    return f"unreachable: {text or type(cause).__name__}"
