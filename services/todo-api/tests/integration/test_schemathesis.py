"""Property-based contract test: schemathesis generates requests from the
committed OpenAPI document and runs them against the app backed by the
emulator, with a valid token. No 5xx, and every response conforms to the
document (status codes, content types, bodies, headers)."""

from __future__ import annotations

from typing import Any, List

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import emulator_settings
from todo_api.app import create_app

pytestmark = pytest.mark.integration
MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def api_schema(local_stack: Any) -> Any:
    return schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(emulator_settings(local_stack))
    )


def _operations(api_schema: Any) -> List[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


def test_api_conforms_to_its_document(api_schema: Any, alice: Any) -> None:
    operations = _operations(api_schema)
    assert len(operations) == 8
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=alice.headers, checks=checks)

        run()
