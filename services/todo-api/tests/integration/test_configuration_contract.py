"""The local stack configures the API from the API's own contract, as AWS does."""

from __future__ import annotations

import pytest

from todo_api.settings import environment_variables, load_settings, required_fields
from todo_local.api_process import api_environment
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_the_local_stack_sets_a_valid_configuration_by_the_contract(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = api_environment(local_stack)
    contract = environment_variables()
    assert {contract[name] for name in required_fields("jwt")} <= set(env)
    assert "CURSOR_SECRET" not in env  # the key itself is never configuration
    for name in contract.values():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.table_name == local_stack.names.table
    assert settings.cursor_secret_id == local_stack.names.cursor_signing_secret


def test_the_cursor_signing_secret_exists_with_a_generated_key(local_stack: LocalStack) -> None:
    secrets = local_stack.client("secretsmanager")
    value = secrets.get_secret_value(SecretId=local_stack.names.cursor_signing_secret)
    assert len(value["SecretString"].encode()) >= 32
