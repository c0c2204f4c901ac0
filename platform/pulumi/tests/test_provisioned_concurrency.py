"""Provisioned concurrency for the API: a published version, the ``live`` alias, the config."""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest
from harness import ACCOUNT_ID, StackRun, stack_file_config
from pydantic import ValidationError

from todo_platform import release
from todo_platform.artifacts import TODO_API
from todo_platform.config import ApiSettings

ALIAS = "aws:lambda/alias:Alias"
PROVISIONED = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"


def configured(run: StackRun) -> int:
    return int(stack_file_config(run.stage)["todo-platform:api"]["provisionedConcurrency"])


def test_prod_keeps_api_environments_warm_and_dev_does_not(dev: StackRun, prod: StackRun) -> None:
    assert configured(prod) > 0
    assert configured(dev) == 0
    assert dev.of_type(ALIAS) == []
    assert dev.of_type(PROVISIONED) == []
    (config,) = prod.of_type(PROVISIONED)
    assert config.inputs == {
        "functionName": "todo-api-handler-prod",
        "qualifier": "live",
        "provisionedConcurrentExecutions": configured(prod),
    }


def test_the_alias_points_at_the_published_version(run: StackRun) -> None:
    fn = run.named(TODO_API.function_logical_name).inputs
    if not configured(run):
        assert "publish" not in fn
        return
    assert fn["publish"] is True
    alias = run.one(ALIAS).inputs
    assert alias["name"] == "live"
    assert alias["functionName"] == fn["name"]
    # The version the mocks' "AWS" published, not $LATEST.
    assert alias["functionVersion"] == "7"


def test_the_integration_and_its_permission_target_the_alias(run: StackRun) -> None:
    integration = run.named("lambda-integration").inputs
    permission = run.named("api-invokes-function").inputs
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:todo-api-handler-{run.stage}"
    if configured(run):
        assert integration["integrationUri"] == f"{function_arn}:live"
        assert permission["qualifier"] == "live"
    else:
        assert integration["integrationUri"] == function_arn
        assert "qualifier" not in permission


def test_a_release_moves_the_alias_and_the_platform_train_leaves_it(prod: StackRun) -> None:
    targets = [release.urn_glob_regex(p) for p in release.target_patterns(TODO_API.package)]
    (alias,) = prod.of_type(ALIAS)
    assert any(rx.match(alias.urn) for rx in targets)
    (config,) = prod.of_type(PROVISIONED)
    excludes = [release.urn_glob_regex(p) for p in release.exclude_patterns()]
    assert any(rx.match(alias.urn) for rx in excludes)
    # The amount kept warm is a platform setting: the train deploys it.
    assert not any(rx.match(config.urn) for rx in excludes)


def api_section(**changes: Any) -> Dict[str, Any]:
    section = copy.deepcopy(stack_file_config("prod")["todo-platform:api"])
    section.update(changes)
    return section


def test_provisioned_concurrency_cannot_exceed_reserved_concurrency() -> None:
    reserved = api_section()["function"]["reservedConcurrency"]
    assert ApiSettings.model_validate(api_section(provisionedConcurrency=reserved))
    with pytest.raises(ValidationError, match="cannot exceed"):
        ApiSettings.model_validate(api_section(provisionedConcurrency=reserved + 1))
    with pytest.raises(ValidationError):
        ApiSettings.model_validate(api_section(provisionedConcurrency=-1))
