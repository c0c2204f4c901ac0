"""The environment contract: validated when the handler is imported, per auth mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict

import pytest

from todo_api.settings import (
    ConfigurationError,
    environment_variables,
    load_settings,
    required_fields,
)

COMPLETE = {
    "TABLE_NAME": "todo-app-data-prod",
    "CURSOR_SECRET_ID": "todo-app/prod/cursor-signing-key",
    "COGNITO_USER_POOL_ID": "us-east-1_EXAMPLE",
    "COGNITO_CLIENT_ID": "client",
}


def _import_handler(env: Dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in environment_variables().values()}
    return subprocess.run(
        [sys.executable, "-c", "import todo_api.handler"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("mode", ["jwt", "apigateway"])
@pytest.mark.parametrize("missing", ["TABLE_NAME", "CURSOR_SECRET_ID", "COGNITO_CLIENT_ID"])
def test_the_container_does_not_start_without_required_configuration(
    mode: str, missing: str
) -> None:
    env = {**COMPLETE, "AUTH_MODE": mode}
    del env[missing]
    result = _import_handler(env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("todo_api.settings.ConfigurationError:")
    assert f"AUTH_MODE={mode}" in last_line
    assert missing in last_line


@pytest.mark.parametrize("mode", ["jwt", "apigateway"])
def test_a_complete_configuration_starts(mode: str) -> None:
    result = _import_handler({**COMPLETE, "AUTH_MODE": mode})
    assert result.returncode == 0, result.stderr


def test_jwt_mode_needs_the_pool_or_the_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COGNITO_USER_POOL_ID")
    with pytest.raises(ConfigurationError, match="COGNITO_USER_POOL_ID"):
        load_settings()
    monkeypatch.setenv("COGNITO_ISSUER", "https://issuer.example")
    assert load_settings().issuer == "https://issuer.example"


def test_invalid_values_are_named_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUTH_MODE", "none")
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "60")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    message = str(raised.value)
    assert "AUTH_MODE" in message
    assert "IDEMPOTENCY_TTL_SECONDS" in message
    assert "\n" not in message


def test_the_contract_lists_every_variable_once() -> None:
    contract = environment_variables()
    names = list(contract.values())
    assert len(names) == len(set(names))
    for name in ("STAGE", "TABLE_NAME", "CURSOR_SECRET_ID", "AUTH_MODE", "COGNITO_CLIENT_ID"):
        assert name in names
    # The key itself is never configuration: only the secret's id is.
    assert "CURSOR_SECRET" not in names
    assert {contract[f] for f in required_fields("jwt")} <= set(names)
    json.dumps(contract)
