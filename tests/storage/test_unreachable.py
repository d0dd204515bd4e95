"""/ready says why the database cannot be reached, and names no host, user or password."""

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from api.storage import Storage
from api.storage.unreachable import reason


def wrapped(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, psycopg.OperationalError(message))


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            'connection failed: connection to server at "10.1.2.3", port 5432 failed: Connection refused\n'
            "\tIs the server running on that host and accepting TCP/IP connections?",
            "unreachable: connection failed: connection to server failed: Connection refused "
            "Is the server running on that host and accepting TCP/IP connections?",
        ),
        (
            'connection to server on socket "/run/pg/.s.PGSQL.5432" failed: FATAL:  password authentication '
            'failed for user "billing"',
            "unreachable: connection to server failed: FATAL: password authentication failed for user",
        ),
        (
            "failed to resolve host 'db.internal': [Errno -2] Name or service not known",
            "unreachable: failed to resolve host: [Errno -2] Name or service not known",
        ),
        (
            "invalid dsn: postgresql://bob:hunter2@db/x password=hunter2",
            "unreachable: invalid dsn: postgresql://db/x password=***",
        ),
        ("", "unreachable: OperationalError"),
    ],
)
def test_reason_keeps_the_why_and_drops_where_and_who(message, shown):
    assert reason(wrapped(message)) == shown


def test_reason_is_one_bounded_line_without_sqlalchemy_boilerplate():
    text = reason(wrapped("x" * 1000 + "\nsecond line"))
    assert len(text) <= len("unreachable: ") + 200 and "\n" not in text
    assert "sqlalche.me" not in reason(wrapped("refused")) and "SQL:" not in reason(wrapped("refused"))


def test_a_real_refused_connection():
    storage = Storage.open("postgresql://bob:hunter2@127.0.0.1:1/nowhere", prepare=False)
    try:
        with pytest.raises(OperationalError) as caught:
            storage.ping()
    finally:
        storage.close()
    text = reason(caught.value)
    assert text.startswith("unreachable: ") and "refused" in text.lower()
    assert "hunter2" not in text and "bob" not in text and "127.0.0.1" not in text
