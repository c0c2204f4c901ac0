"""The published KPIs equal the ground truth of a scripted workload, and the
data in CloudWatch has the runbook's namespace, names, dimension and units."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from kpi_stream import apply_stream
from tests.readback import read_datapoints, read_published
from workload import SCRIPT_EXPECTED, Workload, run_script

from metrics_collector import handler
from todo_core.attributes import from_item
from todo_core.models import utc_now

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("collector_env")]

EVENT = json.loads((Path(__file__).parents[1] / "events" / "scheduled_event.json").read_text())
NAMESPACE = "TodoApi/CustomMetrics"
UNITS = {
    "TotalUsers": "Count",
    "ActiveUsers": "Count",
    "TotalTasks": "Count",
    "CompletedTasks": "Count",
    "CompletionRate": "Percent",
    "AvgTasksPerUser": "None",
}


def assert_values(actual: Dict[str, float], expected: Dict[str, Optional[float]]) -> None:
    defined = {k: v for k, v in expected.items() if v is not None}
    assert set(actual) == set(defined)
    for name, value in defined.items():
        assert actual[name] == pytest.approx(value, rel=1e-12, abs=0), name


def scan_truth(dynamodb: Any, table: str) -> Dict[str, int]:
    """A second, independent truth: what the table holds (the Scan the collector avoids)."""
    tasks = completed = users = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in map(from_item, page["Items"]):
            if item.get("entity_type") == "task":
                tasks += 1
                completed += item["status"] == "completed"
            elif item.get("entity_type") == "user":
                users += 1
    return {"TotalUsers": users, "TotalTasks": tasks, "CompletedTasks": completed}


def test_scripted_workload_is_published_exactly(
    repo_factory: Any, dynamodb: Any, cloudwatch: Any, table: str, stage: str
) -> None:
    workload = Workload(repo_factory, run_at=utc_now())
    run_script(workload)
    expected = workload.truth.expected(workload.run_at)
    assert expected == pytest.approx(SCRIPT_EXPECTED)
    assert scan_truth(dynamodb, table) == {
        k: expected[k] for k in ("TotalUsers", "TotalTasks", "CompletedTasks")
    }

    apply_stream(dynamodb, table)
    returned = handler.lambda_handler(EVENT, None)

    assert_values(returned, expected)
    published = read_datapoints(cloudwatch, NAMESPACE, stage)
    assert_values({k: p.value for k, p in published.items()}, expected)
    assert {k: p.unit for k, p in published.items()} == UNITS
    values = {k: p.value for k, p in published.items()}
    assert read_published(cloudwatch, NAMESPACE, stage) == values
    listed = cloudwatch.list_metrics(
        Namespace=NAMESPACE, Dimensions=[{"Name": "Stage", "Value": stage}]
    )["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == sorted(UNITS)
    assert all(m["Dimensions"] == [{"Name": "Stage", "Value": stage}] for m in listed)


def test_an_empty_table_publishes_real_zeros_and_no_ratios(
    cloudwatch: Any, stage: str, dynamodb: Any, table: str
) -> None:
    apply_stream(dynamodb, table)
    returned = handler.lambda_handler(EVENT, None)

    assert returned == {"TotalUsers": 0, "ActiveUsers": 0, "TotalTasks": 0, "CompletedTasks": 0}
    published = read_datapoints(cloudwatch, NAMESPACE, stage)
    assert sorted(published) == sorted(returned)


def test_users_without_tasks_publish_no_completion_rate(
    repo_factory: Any, cloudwatch: Any, stage: str, dynamodb: Any, table: str
) -> None:
    workload = Workload(repo_factory, run_at=utc_now())
    workload.seen("only-signed-in")
    apply_stream(dynamodb, table)

    returned = handler.lambda_handler(EVENT, None)

    assert returned == {
        "TotalUsers": 1, "ActiveUsers": 0, "TotalTasks": 0, "CompletedTasks": 0,
        "AvgTasksPerUser": 0.0,
    }
    assert "CompletionRate" not in read_published(cloudwatch, NAMESPACE, stage)


def test_the_namespace_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    repo_factory: Any,
    cloudwatch: Any,
    stage: str,
    dynamodb: Any,
    table: str,
) -> None:
    monkeypatch.setenv("METRICS_NAMESPACE", "TodoApi/Elsewhere")
    Workload(repo_factory, run_at=utc_now()).create("u", "x")
    apply_stream(dynamodb, table)

    handler.lambda_handler(EVENT, None)

    assert read_published(cloudwatch, "TodoApi/Elsewhere", stage)["TotalTasks"] == 1
    assert read_published(cloudwatch, NAMESPACE, stage) == {}
