"""The Lambda path: API Gateway HTTP API (v2) events through Mangum.

Events are JSON fixtures in tests/events (the shape API Gateway sends, with
``{{placeholders}}`` for tokens and ids). The data store is in memory here;
tests/integration runs the same handler against the emulator.
"""

from __future__ import annotations

import base64
import importlib
import json
from typing import Any, Dict, Iterator

import pytest
from mangum import Mangum

from tests.conftest import UNIT_CLIENT, TokenFactory, load_event, unit_settings
from tests.fakes import InMemoryRepository, in_memory_idempotency
from todo_api import problems
from todo_api.app import create_app
from todo_api.auth import JwtVerifier


class Context:
    """The parts of the Lambda context the app reads."""

    function_name = "todo-api-handler-unit"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def handler_for(base_path: str = "", verifier: Any = None, **overrides: Any) -> Mangum:
    settings = unit_settings(api_base_path=base_path, **overrides)
    store = InMemoryRepository()
    app = create_app(
        settings,
        tasks=store,
        profiles=store,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    return Mangum(app, lifespan="off", api_gateway_base_path=settings.api_base_path or "/")


def body_of(response: Dict[str, Any]) -> Any:
    text = response.get("body", "")
    if response.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return json.loads(text) if text else None


@pytest.fixture
def jwt_handler(verifier: JwtVerifier) -> Mangum:
    store = InMemoryRepository()
    app = create_app(
        unit_settings(),
        tasks=store,
        profiles=store,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    return Mangum(app, lifespan="off")


@pytest.fixture
def real_handler_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``todo_api.handler`` itself, configured from the environment as in Lambda."""
    for name, value in {
        "STAGE": "prod",
        "TABLE_NAME": "todo-app-data-prod",
        "CURSOR_SECRET_ID": "todo-app/prod/cursor-signing-key",
        "COGNITO_USER_POOL_ID": "us-east-1_EXAMPLE",
        "COGNITO_CLIENT_ID": UNIT_CLIENT,
        "AWS_LAMBDA_FUNCTION_NAME": "todo-api-handler-prod",
        "API_BASE_PATH": "",
    }.items():
        monkeypatch.setenv(name, value)
    import todo_api.handler

    return importlib.reload(todo_api.handler)


def test_lambda_handler_serves_health(real_handler_module: Any) -> None:
    response = real_handler_module.lambda_handler(load_event("health.json"), Context())
    assert response["statusCode"] == 200
    assert body_of(response)["environment"] == "prod"
    assert response["headers"]["x-request-id"] == "JKJaXmPLvHcESHA="
    # In Lambda, AWS calls run inline: no thread hop per request.
    assert real_handler_module.app.state.container.offload is False


def test_lambda_handler_refuses_requests_without_a_token(real_handler_module: Any) -> None:
    event = load_event("list_tasks.json", token="")
    event["headers"].pop("authorization")
    response = real_handler_module.lambda_handler(event, Context())
    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == problems.PROBLEM_CONTENT_TYPE
    assert response["headers"]["www-authenticate"].startswith("Bearer")


def test_runbook_calls_as_v2_events(jwt_handler: Mangum, tokens: TokenFactory) -> None:
    token = tokens.token(sub="lambda-user")
    created = jwt_handler(load_event("create_task.json", token=token), Context())
    assert created["statusCode"] == 201, created
    task = body_of(created)
    assert created["headers"]["location"] == f"/api/v1/tasks/{task['task_id']}"
    assert created["headers"]["etag"] == '"1"'
    replay = jwt_handler(load_event("create_task.json", token=token), Context())
    assert replay["headers"]["idempotent-replayed"] == "true"
    assert body_of(replay) == task

    listed = body_of(jwt_handler(load_event("list_tasks.json", token=token), Context()))
    assert [t["task_id"] for t in listed["items"]] == [task["task_id"]]
    pending = body_of(jwt_handler(load_event("list_tasks_by_status.json", token=token), Context()))
    assert [t["task_id"] for t in pending["items"]] == [task["task_id"]]

    updated = jwt_handler(
        load_event("update_task.json", token=token, task_id=task["task_id"]), Context()
    )
    assert updated["statusCode"] == 200
    assert (body_of(updated)["status"], body_of(updated)["priority"]) == ("in_progress", "high")
    deleted = jwt_handler(
        load_event("delete_task.json", token=token, task_id=task["task_id"]), Context()
    )
    assert deleted["statusCode"] == 204


def test_base64_encoded_bodies_are_decoded(jwt_handler: Mangum, tokens: TokenFactory) -> None:
    response = jwt_handler(load_event("create_task_base64.json", token=tokens.token()), Context())
    assert response["statusCode"] == 201
    assert body_of(response)["title"] == "Test Task"


def test_stage_prefix_is_stripped_and_kept_for_docs_and_locations(
    tokens: TokenFactory, verifier: JwtVerifier
) -> None:
    handler = handler_for("/prod", verifier=verifier)
    health = handler(load_event("health_stage_prefix.json"), Context())
    assert health["statusCode"] == 200
    docs = handler(load_event("docs_stage_prefix.json"), Context())
    assert docs["statusCode"] == 200
    assert "/prod/openapi.json" in docs["body"]
    spec = body_of(handler(load_event("openapi_stage_prefix.json"), Context()))
    assert spec["servers"] == [{"url": "/prod"}]
    created = handler(load_event("create_task_stage_prefix.json", token=tokens.token()), Context())
    assert created["statusCode"] == 201
    assert created["headers"]["location"].startswith("/prod/api/v1/tasks/")


@pytest.mark.parametrize(
    "fixture", ["authorizer_id_token_list_tasks.json", "authorizer_access_token_list_tasks.json"]
)
def test_api_gateway_mode_reads_the_authorizer_claims(fixture: str) -> None:
    handler = handler_for(auth_mode="apigateway")
    response = handler(load_event(fixture, client_id=UNIT_CLIENT), Context())
    assert response["statusCode"] == 200, response
    me = load_event(fixture, client_id=UNIT_CLIENT)
    me["rawPath"] = me["requestContext"]["http"]["path"] = "/api/v1/users/me"
    profile = body_of(handler(me, Context()))
    assert profile["user_id"] == "5f1c0e1e-7d1b-4f0e-9b6e-2f8c1d0a9b11"


@pytest.mark.parametrize(
    "fixture", ["authorizer_refresh_token_use.json", "authorizer_other_client.json"]
)
def test_api_gateway_mode_still_checks_token_use_and_client(fixture: str) -> None:
    handler = handler_for(auth_mode="apigateway")
    response = handler(load_event(fixture, client_id=UNIT_CLIENT), Context())
    assert response["statusCode"] == 401
    assert body_of(response)["type"] == problems.UNAUTHORIZED.uri


def test_api_gateway_mode_without_claims_is_401() -> None:
    handler = handler_for(auth_mode="apigateway")
    response = handler(load_event("list_tasks.json", token="unverified"), Context())
    assert response["statusCode"] == 401


def test_unknown_token_in_jwt_mode_is_401(jwt_handler: Mangum) -> None:
    response = jwt_handler(load_event("list_tasks.json", token="not-a-jwt"), Context())
    assert response["statusCode"] == 401
    assert 'error="invalid_token"' in response["headers"]["www-authenticate"]
