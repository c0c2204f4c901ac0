"""Property-based contract test: schemathesis generates requests from the
committed OpenAPI document and runs them against the app backed by the
emulator, with a valid token. No 5xx, and every response conforms to the
document (status codes, content types, bodies, headers)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
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

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(local_stack: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(emulator_settings(local_stack)))


@pytest.fixture(scope="module")
def bearer(alice: Any) -> dict:
    return alice.headers


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_document(case: Any, bearer: dict) -> None:
    case.call_and_validate(
        headers=bearer,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
