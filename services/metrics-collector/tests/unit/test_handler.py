from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeCloudWatch
from pydantic import ValidationError

from metrics_collector import handler
from todo_core import keys

EVENT = json.loads((Path(__file__).parents[1] / "events" / "scheduled_event.json").read_text())


class FakeDynamoDB:
    """Answers the collector's queries: two stream shards' counters, no activity."""

    def query(self, **request: Any) -> Any:
        if request["ExpressionAttributeValues"][":pk"]["S"] != keys.KPI_COUNTERS_PARTITION:
            return {"Items": []}
        return {"Items": [
            {"users": {"N": "2"}, "tasks": {"N": "3"}, "completed": {"N": "1"}},
            {"users": {"N": "0"}, "tasks": {"N": "2"}, "completed": {"N": "0"}},
        ]}


def test_the_handler_runs_once_and_returns_what_it_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("TABLE_NAME", "todo-app-data-dev")
    cloudwatch = FakeCloudWatch()
    monkeypatch.setattr(handler, "clients", lambda: handler.Clients(FakeDynamoDB(), cloudwatch))

    result = handler.lambda_handler(EVENT, None)

    assert result == {
        "TotalUsers": 2, "ActiveUsers": 0, "TotalTasks": 5, "CompletedTasks": 1,
        "CompletionRate": 20.0, "AvgTasksPerUser": 2.5,
    }
    assert json.loads(json.dumps(result)) == result  # a valid Lambda response
    assert len(cloudwatch.calls) == 1


def test_missing_configuration_fails_before_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAGE", raising=False)
    monkeypatch.setenv("TABLE_NAME", "todo-app-data-dev")

    def no_clients() -> Any:
        raise AssertionError("no client may be created")

    monkeypatch.setattr(handler, "clients", no_clients)
    with pytest.raises(ValidationError):
        handler.lambda_handler(EVENT, None)
