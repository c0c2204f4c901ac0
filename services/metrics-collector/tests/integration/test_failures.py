"""When the counters cannot be read or the metrics cannot be published, the run
fails loudly (error log + exception, hence the Lambda Errors metric) and never
publishes zeros."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from kpi_stream import apply_stream
from tests.readback import read_published
from workload import Workload

from metrics_collector import collector, handler
from metrics_collector.errors import InconsistentCounters, KpiSourceUnavailable, PublishFailed
from metrics_collector.settings import Settings
from todo_core import keys
from todo_core.errors import StoreUnavailable
from todo_core.models import utc_now
from todo_local.emulator import free_port

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("collector_env")]

EVENT = json.loads((Path(__file__).parents[1] / "events" / "scheduled_event.json").read_text())


def error_logs(caplog: pytest.LogCaptureFixture) -> list:
    """The ERROR records of the function's logger (Powertools prints them as JSON)."""
    return [
        r for r in caplog.records
        if r.name == "todo-metrics-collector" and r.levelno == logging.ERROR
    ]


def causes(exc: BaseException) -> str:
    """Every exception in the chain, as one string."""
    seen = []
    current: Any = exc
    while current is not None:
        seen.append(repr(current))
        current = current.__cause__ or current.__context__
    return " <- ".join(seen)


def dead_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def test_missing_table_fails_loudly_and_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, cloudwatch: Any, stage: str, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TABLE_NAME", "todo-app-data-does-not-exist")

    with pytest.raises(KpiSourceUnavailable) as failure:
        handler.lambda_handler(EVENT, None)

    assert "ResourceNotFoundException" in causes(failure.value)
    [record] = error_logs(caplog)
    assert record.getMessage() == "KPI counters unavailable; nothing published"
    assert record.stage == stage
    assert record.exc_info is not None
    assert read_published(cloudwatch, stage=stage) == {}


def test_unreachable_endpoint_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, cloudwatch: Any, stage: str, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead_endpoint())
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    with pytest.raises(KpiSourceUnavailable) as failure:
        handler.lambda_handler(EVENT, None)

    assert "EndpointConnectionError" in causes(failure.value)
    assert len(error_logs(caplog)) == 1
    assert read_published(cloudwatch, stage=stage) == {}  # asked of the live emulator


@pytest.mark.parametrize("operation", ["Query"])
def test_throttled_reads_fail_loudly(
    operation: str, table: str, stage: str, dynamodb: Any, cloudwatch: Any
) -> None:
    settings = Settings(stage=stage, table_name=table)
    def throttle(**_: Any) -> Any:
        response = AWSResponse("http://127.0.0.1", 400, {}, None)
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    dynamodb.meta.events.register(f"before-call.dynamodb.{operation}", throttle)
    try:
        with pytest.raises(KpiSourceUnavailable) as failure:
            collector.run(settings, dynamodb, cloudwatch)
    finally:
        dynamodb.meta.events.unregister(f"before-call.dynamodb.{operation}", throttle)

    assert isinstance(failure.value.__cause__, StoreUnavailable)
    assert read_published(cloudwatch, stage=stage) == {}


def test_inconsistent_counters_are_not_published(
    table: str, stage: str, dynamodb: Any, cloudwatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Only a bug or a hand edit can do this: more completed than existing tasks.
    dynamodb.put_item(
        TableName=table,
        Item={
            **{k: {"S": v} for k, v in keys.kpi_counter_key("shardId-edited").items()},
            "tasks": {"N": "2"},
            "completed": {"N": "5"},
        },
    )

    with pytest.raises(InconsistentCounters):
        handler.lambda_handler(EVENT, None)

    assert len(error_logs(caplog)) == 1
    assert read_published(cloudwatch, stage=stage) == {}


def test_unreachable_cloudwatch_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
    repo_factory: Any,
    caplog: pytest.LogCaptureFixture,
    dynamodb: Any,
    table: str,
) -> None:
    Workload(repo_factory, run_at=utc_now()).create("u", "t")
    apply_stream(dynamodb, table)
    # DynamoDB stays reachable; only CloudWatch's endpoint is dead.
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", dead_endpoint())
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    with pytest.raises(PublishFailed):
        handler.lambda_handler(EVENT, None)

    [record] = error_logs(caplog)
    assert record.getMessage() == "publishing the KPIs failed"
    assert record.kpis["TotalTasks"] == 1  # the values are in the log, for the record


def test_rejected_put_metric_data_fails_loudly(
    table: str, stage: str, dynamodb: Any, cloudwatch: Any
) -> None:
    def reject(**_: Any) -> Any:
        response = AWSResponse("http://127.0.0.1", 400, {}, None)
        error = {"Code": "InvalidParameterValue", "Message": "no"}
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    cloudwatch.meta.events.register("before-call.cloudwatch.PutMetricData", reject)
    try:
        with pytest.raises(PublishFailed, match="InvalidParameterValue"):
            collector.run(Settings(stage=stage, table_name=table), dynamodb, cloudwatch)
    finally:
        cloudwatch.meta.events.unregister("before-call.cloudwatch.PutMetricData", reject)
