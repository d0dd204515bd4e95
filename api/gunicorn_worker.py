"""gunicorn's gthread worker, answering the errors gunicorn answers itself (a request it cannot
parse: a request line past 8190 bytes, headers too large or too many, a bad Content-Length) with
application/problem+json, as every other error of the service, instead of its HTML page.

The gunicorn master loads this class (worker_class in api/gunicorn.conf.py): it imports gunicorn
and the standard library only, so the master stays free of the app's libraries.
"""

import json
from datetime import timedelta
from ssl import SSLError

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers import gthread

# The status of each error gunicorn raises before the app is called, as gunicorn answers it (its
# workers/base.py), with the RFC 9110 title; the first match wins. Any other ParseException: 400.
# The app's fault (a header it sent that gunicorn refuses, anything unexpected): 500.
STATUS = (
    (errors.InvalidResponseHeader, 500, "Internal Server Error"),
    (errors.InvalidResponseHeaderName, 500, "Internal Server Error"),
    (errors.ConfigurationProblem, 500, "Internal Server Error"),
    (errors.LimitRequestLine, 414, "URI Too Long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (errors.UnsupportedTransferCoding, 501, "Not Implemented"),
    (errors.ExpectationFailed, 417, "Expectation Failed"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (SSLError, 403, "Forbidden"),
    (errors.ParseException, 400, "Bad Request"),
)
INTERNAL = (500, "Internal Server Error")


def status_of(exc: BaseException) -> tuple[int, str]:
    return next(((status, title) for kind, status, title in STATUS if isinstance(exc, kind)), INTERNAL)


def problem_body(status: int, title: str, detail: str) -> bytes:
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


class ThreadWorker(gthread.ThreadWorker):
    def handle_error(self, req, client, addr, exc):
        """As gunicorn's own (the same statuses, log lines and access log entry; the connection is
        closed after it), answered as a problem: the client's error says what gunicorn found
        wrong, a 500 says nothing of the inside."""
        addr = addr or ("", -1)  # a unix socket
        status, title = status_of(exc)
        if status == 500:
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
            detail = "The server failed to handle this request. The error has been logged."
        else:
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
            detail = str(exc)
        if isinstance(exc, errors.LimitRequestHeaders):  # gunicorn's message names no limit
            detail = (
                f"At most {self.cfg.limit_request_fields} header fields of at most "
                f"{self.cfg.limit_request_field_size} bytes each are accepted."
            )
        body = problem_body(status, title, detail)
        if req is None and isinstance(exc, errors.InvalidHeader):
            req = exc.req  # the request whose header it is, for the access log
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ.update(REMOTE_ADDR=addr[0], REMOTE_PORT=str(addr[1]))
            logged = Response(req, client, self.cfg)
            logged.status = f"{status} {title}"
            logged.response_length = len(body)
            self.log.access(logged, req, environ, timedelta(0))
        head = (
            f"HTTP/1.1 {status} {title}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:
            self.log.debug("Failed to send error message.")
