"""Prod keeps its data: protect on keys, lake buckets, table and pool; budgets; someone paged."""

from __future__ import annotations

import copy
import re

import pytest
from harness import StackRun, deployable_config, stack_file_config
from pydantic import ValidationError

from todo_platform.config import settings_from_mapping
from todo_platform.policies import KMS_KEY, TABLE

LAKE_BUCKETS = ("bronze-bucket", "silver-bucket", "gold-bucket", "artifacts-bucket")


def test_prod_protects_keys_lake_buckets_table_and_pool(prod: StackRun) -> None:
    protected = {r.name for r in prod.records if r.protect}
    assert {k.name for k in prod.of_type(KMS_KEY)} <= protected
    assert set(LAKE_BUCKETS) <= protected
    assert {prod.one(TABLE).name, "user-pool"} <= protected


def test_dev_and_staging_can_be_torn_down(dev: StackRun, staging: StackRun) -> None:
    for run in (dev, staging):
        assert not [r.name for r in run.records if r.protect]


def test_every_stage_has_a_budget_alerting_at_80_and_100_percent(run: StackRun) -> None:
    budget = run.named("monthly-budget").inputs
    configured = stack_file_config(run.stage)["todo-platform:budget"]
    assert budget["budgetType"] == "COST"
    assert budget["timeUnit"] == "MONTHLY"
    assert float(budget["limitAmount"]) == configured["monthlyLimitUsd"]
    assert budget["costFilters"] == [
        {"name": "TagKeyValue", "values": [f"user:Environment${run.stage}"]}
    ]
    topic = run.outputs["AlertTopicArn"]
    assert [(n["threshold"], n["subscriberSnsTopicArns"]) for n in budget["notifications"]] == [
        (80, [topic]),
        (100, [topic]),
    ]


def test_budgets_may_publish_to_the_encrypted_alert_topic(run: StackRun) -> None:
    import json

    policy = json.loads(run.named("alerts-topic-policy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert "budgets.amazonaws.com" in statement["Principal"]["Service"]
    key_policy = json.loads(run.named("alerts-key").inputs["policy"])
    assert any(
        s.get("Principal") == {"Service": "budgets.amazonaws.com"} for s in key_policy["Statement"]
    )


def sections(stage: str, config: dict) -> dict:
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("todo-platform:")}


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_a_paged_stage_without_an_alert_address_stops_with_the_fix(stage: str) -> None:
    committed = sections(stage, stack_file_config(stage))
    fix = re.escape("pulumi config set --path 'todo-platform:alerts.email'")
    with pytest.raises(ValidationError, match=fix):
        settings_from_mapping(stage, "us-east-1", committed)
    placeholder = copy.deepcopy(committed)
    placeholder["alerts"]["email"] = "alerts@example.com"
    with pytest.raises(ValidationError, match="placeholder"):
        settings_from_mapping(stage, "us-east-1", placeholder)
    settings = settings_from_mapping(stage, "us-east-1", sections(stage, deployable_config(stage)))
    assert settings.alerts.email


def test_dev_pages_nobody_and_needs_no_address() -> None:
    assert settings_from_mapping("dev", "us-east-1", sections("dev", stack_file_config("dev")))
