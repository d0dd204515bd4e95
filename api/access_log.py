"""gunicorn's access log as one JSON object per line, for log shippers.

gunicorn's own access_log_format is %-substitution into a template: a quote or backslash in a
path or user agent would break a JSON template, so each line is built here with json.dumps.

`client` is the id of the API key that called (api/auth.py puts it in the WSGI environ under
CLIENT), "anonymous" when the service runs open, null where no key is asked for (or none known was
sent). The key itself, and every other header, stays out of the log, and so does anything in the
path or query that could be an identity number (api/identity_mask.py).
"""

import json
import os
import traceback
from datetime import UTC, datetime

from gunicorn.glogging import Logger

from .identity_mask import masked

CLIENT = "utomlans.client"  # the WSGI environ key of the caller's key id


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
                "path": masked(environ.get("PATH_INFO")),
                "query": masked(environ.get("QUERY_STRING")) or None,
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
