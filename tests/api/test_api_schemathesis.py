"""Property-based tests from the OpenAPI document (schemathesis): no input gives a server error,
and every answer matches what the document promises. Bounded: 30 examples per operation."""

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


# The schema is loaded at import (collection), before the session's database fixture runs: this
# app gets its own throwaway SQLite file, removed when the directory object is collected at exit.
_DATABASE_DIR = tempfile.TemporaryDirectory(prefix="utomlans-schemathesis-")
app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{_DATABASE_DIR.name}/decisions.sqlite3"})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_and_answers_as_documented(case):
    response = case.call()
    case.validate_response(response, checks=CHECKS)
