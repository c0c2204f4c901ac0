"""The cursor-signing key comes from Secrets Manager; a rotation keeps cursors working."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Dict

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import CognitoUser, emulator_settings
from todo_api import problems
from todo_api.app import create_app
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration
TASKS = "/api/v1/tasks"


def _first_page_cursor(api: TestClient, user: CognitoUser) -> str:
    page = api.get(TASKS, params={"limit": 1}, headers=user.headers)
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    assert cursor
    return str(cursor)


def _next_page(api: TestClient, user: CognitoUser, cursor: str) -> Any:
    return api.get(TASKS, params={"limit": 1, "cursor": cursor}, headers=user.headers)


def test_cursors_survive_one_rotation_and_not_two(
    local_stack: LocalStack, carol: CognitoUser
) -> None:
    sm = local_stack.client("secretsmanager")
    secret_id = f"todo-app/test/cursor-signing-key-{uuid.uuid4().hex[:8]}"
    sm.create_secret(Name=secret_id, SecretString=secrets.token_urlsafe(48))
    # No cache: every cursor operation reads the secret, as a container does
    # once its cache has expired.
    settings = emulator_settings(local_stack, cursor_secret_id=secret_id, secrets_cache_seconds=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        for title in ("one", "two", "three"):
            assert api.post(TASKS, json={"title": title}, headers=carol.headers).status_code == 201
        before = _first_page_cursor(api, carol)

        # A rotation: the new value becomes AWSCURRENT, the old one AWSPREVIOUS.
        sm.put_secret_value(SecretId=secret_id, SecretString=secrets.token_urlsafe(48))
        during = _next_page(api, carol, before)
        assert during.status_code == 200, during.text
        assert during.json()["items"]

        # Another rotation retires the first key: its cursors are refused.
        sm.put_secret_value(SecretId=secret_id, SecretString=secrets.token_urlsafe(48))
        after = _next_page(api, carol, before)
        assert after.status_code == 400
        assert after.json()["type"] == problems.INVALID_CURSOR.uri
        fresh: Dict[str, Any] = _next_page(api, carol, _first_page_cursor(api, carol)).json()
        assert fresh["items"]


def test_a_missing_secret_is_a_503_not_a_crash(local_stack: LocalStack, carol: CognitoUser) -> None:
    settings = emulator_settings(local_stack, cursor_secret_id="todo-app/test/no-such-secret")
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        response = api.get(TASKS, params={"limit": 1, "cursor": "x.y"}, headers=carol.headers)
        assert response.status_code == 503
        assert response.json()["type"] == problems.SERVICE_UNAVAILABLE.uri
