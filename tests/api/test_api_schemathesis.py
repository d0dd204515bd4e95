"""Property-based tests from the OpenAPI document (schemathesis): no input gives a server error,
and every answer matches what the document promises, on SQLite and on PostgreSQL. Bounded: 30
examples per operation.

One test per database walks every operation (schemathesis' from_fixture, which would give one
test per operation on a fixture's app, does not run under pytest 9)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.mark.slow
def test_no_server_errors_and_answers_as_documented(make_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", make_app())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def answers_as_documented(case):
            case.validate_response(case.call(), checks=CHECKS)

        try:
            answers_as_documented()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
