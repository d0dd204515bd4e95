"""gunicorn's access log as one JSON object per line, for log shippers.

gunicorn's own access_log_format is %-substitution into a template: a quote or backslash in a
path or user agent would break a JSON template, so each line is built here with json.dumps.

`client` is the id of the API key that called (api/auth.py puts it in the WSGI environ under
CLIENT), "anonymous" when the service runs open, null where no key is asked for (or none known was
sent). The key itself, and every other header, stays out of the log. So does anything in the path
or query that could be a personnummer or samordningsnummer (10 or 12 digits, maybe with a
separator, as written or percent-encoded): the service refuses those (rules/identity_numbers.py),
but the request that was refused would still be logged. Any such run of digits is masked, valid
number or not: a log line loses nothing a reader needs.
"""

import json
import os
import re
import traceback
from datetime import UTC, datetime

from gunicorn.glogging import Logger

CLIENT = "utomlans.client"  # the WSGI environ key of the caller's key id
_IDENTITY_NUMBER_LIKE = re.compile(r"(?<!\d)(?:\d{6}|\d{8})(?:[-+ ]|%2[BbDd]|%20)?\d{4}(?!\d)")
MASK = "<masked>"


def _masked(text: str | None) -> str | None:
    return _IDENTITY_NUMBER_LIKE.sub(MASK, text) if text else text


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not getattr(self, "access_log_enabled", self.cfg.accesslog):
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            record = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "remote": environ.get("REMOTE_ADDR", "-"),
                "method": environ.get("REQUEST_METHOD"),
                "path": _masked(environ.get("PATH_INFO")),
                "query": _masked(environ.get("QUERY_STRING")) or None,
                "status": int(status),
                "client": environ.get(CLIENT),
                "bytes": getattr(resp, "sent", None),
                "duration_us": request_time.seconds * 1_000_000 + request_time.microseconds,
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "pid": os.getpid(),
            }
            self.access_log.info("%s", json.dumps(record, ensure_ascii=False))
        except Exception:  # a log line must never fail a request
            self.error(traceback.format_exc())
