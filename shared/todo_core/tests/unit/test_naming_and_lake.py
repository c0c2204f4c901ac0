"""Resource names: the runbook's names, a stage suffix, valid for AWS."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todo_core import lake
from todo_core.naming import OUTPUT_NAMES, ResourceNames

ACCOUNT = "123456789012"
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "eu-central-2"]


def test_names_follow_the_runbook_with_a_stage_suffix() -> None:
    n = ResourceNames("prod", ACCOUNT, "us-east-1")
    assert n.table == "todo-app-data-prod"
    assert n.cdc_delivery_stream == "todo-cdc-stream-prod"
    assert n.glue_database == "todo_analytics_prod"
    assert n.athena_workgroup == "todo-analytics-workgroup-prod"
    assert n.user_pool == "todo-api-user-pool-prod"
    assert n.api_function == "todo-api-handler-prod"
    assert n.cdc_function == "todo-cdc-processor-prod"
    assert n.metrics_function == "todo-custom-metrics-prod"
    assert n.kpi_function == "todo-kpi-aggregator-prod"
    assert n.kpi_dead_letter_queue == "todo-kpi-dlq-prod"
    assert n.bronze_bucket == "todo-bronze-123456789012-us-east-1-prod"
    assert n.dashboard == "TodoApiMonitoring-prod"
    assert n.alert_topic == "todo-api-alerts-prod"


@given(
    stage=st.from_regex(r"\A[a-z][a-z0-9]{1,11}\Z"),
    region=st.sampled_from(REGIONS),
)
def test_every_stage_gives_valid_distinct_bucket_names(stage: str, region: str) -> None:
    n = ResourceNames(stage, ACCOUNT, region)
    buckets = [n.bronze_bucket, n.silver_bucket, n.gold_bucket, n.artifacts_bucket]
    assert len(set(buckets)) == len(buckets)
    for bucket in buckets:
        assert S3_BUCKET.match(bucket), bucket
        assert ".." not in bucket
    # Glue database names: lower case, digits and underscores only.
    assert re.fullmatch(r"[a-z0-9_]{1,255}", n.glue_database)
    # Lambda function names are at most 64 characters.
    assert all(len(f) <= 64 for f in (n.api_function, n.cdc_function, n.metrics_function))


@pytest.mark.parametrize("stage", ["", "a", "Prod", "dev-1", "1dev", "averyverylongstage", "dev_1"])
def test_invalid_stages_are_rejected(stage: str) -> None:
    with pytest.raises(ValueError, match="stage"):
        ResourceNames(stage, ACCOUNT, "us-east-1")


@pytest.mark.parametrize("account", ["", "12345", "12345678901a", "1234567890123"])
def test_invalid_accounts_are_rejected(account: str) -> None:
    with pytest.raises(ValueError, match="account"):
        ResourceNames("dev", account, "us-east-1")


def test_output_names_include_the_runbook_outputs() -> None:
    runbook = {
        "TableName",
        "TableArn",
        "ApiEndpoint",
        "UserPoolId",
        "UserPoolClientId",
        "BronzeBucketName",
        "SilverBucketName",
        "GoldBucketName",
        "FirehoseStreamName",
        "GlueDatabaseName",
        "AthenaWorkgroupName",
        "DashboardUrl",
        "AlertTopicArn",
    }
    assert runbook <= set(OUTPUT_NAMES)
    assert len(OUTPUT_NAMES) == len(set(OUTPUT_NAMES))


def test_lake_prefixes_are_distinct_folders() -> None:
    prefixes = [lake.BRONZE_CDC_PREFIX, lake.BRONZE_LOGS_PREFIX, lake.BRONZE_ERROR_PREFIX]
    assert len(set(prefixes)) == len(prefixes)
    assert all(p.endswith("/") and not p.startswith("/") for p in prefixes)
    tables = lake.SILVER_TABLES + lake.GOLD_TABLES
    assert len(set(tables)) == len(tables)
    assert all(lake.table_prefix(t) == t + "/" for t in tables)
