from __future__ import annotations

import pytest
from pydantic import ValidationError

from metrics_collector.settings import Settings


def test_reads_the_environment_pulumi_sets() -> None:
    settings = Settings.from_env(
        {"STAGE": "prod", "TABLE_NAME": "todo-app-data-prod", "METRICS_NAMESPACE": "Custom/X"}
    )
    assert (settings.stage, settings.table_name, settings.metrics_namespace) == (
        "prod", "todo-app-data-prod", "Custom/X",
    )


@pytest.mark.parametrize("namespace", [None, ""])
def test_the_namespace_defaults_to_the_runbooks(namespace: object) -> None:
    env = {"STAGE": "dev", "TABLE_NAME": "todo-app-data-dev"}
    if namespace is not None:
        env["METRICS_NAMESPACE"] = str(namespace)
    assert Settings.from_env(env).metrics_namespace == "TodoApi/CustomMetrics"


@pytest.mark.parametrize(
    "env",
    [
        {"TABLE_NAME": "todo-app-data-dev"},  # no stage
        {"STAGE": "dev"},  # no table
        {"STAGE": "Dev", "TABLE_NAME": "todo-app-data-dev"},  # not a stage name
        {"STAGE": "dev", "TABLE_NAME": "todo-app-data-dev", "METRICS_NAMESPACE": "AWS/Lambda"},
    ],
)
def test_bad_configuration_is_refused(env: dict) -> None:
    with pytest.raises(ValidationError):
        Settings.from_env(env)
