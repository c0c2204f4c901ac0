"""The API against the emulator, with real Cognito tokens from the emulator's pool."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterator

import pytest
from fastapi.testclient import TestClient

from todo_api.app import create_app
from todo_api.settings import Settings
from todo_local.api_process import ApiProcess
from todo_local.cognito import Tokens, stack_user_tokens
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class CognitoUser:
    email: str
    tokens: Tokens

    @property
    def headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.id_token}"}

    def with_headers(self, **extra: str) -> Dict[str, str]:
        return {**self.headers, **extra}


def emulator_settings(stack: LocalStack, **overrides: Any) -> Settings:
    values: Dict[str, Any] = {
        "stage": "local",
        "table_name": stack.names.table,
        "cursor_secret_id": stack.names.cursor_signing_secret,
        "cognito_user_pool_id": stack.user_pool_id,
        "cognito_client_id": stack.user_pool_client_id,
        "cognito_issuer": stack.issuer,
        "cognito_jwks_url": stack.jwks_url,
        "blocking_io": "threadpool",
    }
    values.update(overrides)
    return Settings(**values)


def new_user(stack: LocalStack, name: str) -> CognitoUser:
    email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
    return CognitoUser(
        email, stack_user_tokens(stack, email, given_name=name.title(), family_name="Tester")
    )


@pytest.fixture(scope="session")
def alice(local_stack: LocalStack) -> CognitoUser:
    return new_user(local_stack, "alice")


@pytest.fixture(scope="session")
def bob(local_stack: LocalStack) -> CognitoUser:
    return new_user(local_stack, "bob")


@pytest.fixture
def carol(local_stack: LocalStack) -> CognitoUser:
    """A fresh user per test, for tests that count a user's tasks."""
    return new_user(local_stack, "carol")


@pytest.fixture(scope="session")
def api_app(local_stack: LocalStack) -> Any:
    return create_app(emulator_settings(local_stack))


@pytest.fixture(scope="session")
def api(api_app: Any) -> Iterator[TestClient]:
    with TestClient(api_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
def api_server(
    local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    """uvicorn in a child process, exactly as ``todo-local up`` runs it."""
    with ApiProcess(local_stack, log_dir=str(tmp_path_factory.mktemp("api-logs"))) as server:
        yield server
