"""A private table per test (its own stream, counters and checkpoints) in the
session's emulator, and the aggregator run over its stream by the local
event source mapping (todo_local's StreamRunner), as in the dev stack."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List

import pytest

from kpi_aggregator import handler
from todo_core import keys
from todo_core.cursor import CursorCodec
from todo_core.repository import TodoRepository
from todo_local.emulator import client_environment
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

Handler = Callable[[Dict[str, Any], Any], Any]


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@dataclass
class Table:
    name: str
    stream_arn: str
    stack: LocalStack

    def repository(self) -> TodoRepository:
        return TodoRepository(
            self.stack.client("dynamodb"), self.name, CursorCodec(secrets.token_bytes(32))
        )

    def mapping(self, function: Handler = handler.lambda_handler, **options: Any) -> StreamRunner:
        """The KPI mapping as Pulumi configures it: a tumbling window names the shard."""
        options.setdefault("tumbling_window", 60)
        options.setdefault("poll_interval", 0.02)
        options.setdefault("retry_backoff", 0.01)
        return StreamRunner(
            self.stack.client("dynamodbstreams"),
            self.stream_arn,
            function,
            function_name="todo-kpi-aggregator-local",
            **options,
        )


@pytest.fixture
def table(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    name = f"todo-app-data-{uuid.uuid4().hex[:12]}"
    ddb = local_stack.client("dynamodb")
    created = ddb.create_table(**keys.TABLE_SPEC.create_table_request(name))
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("TABLE_NAME", name)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for key, value in client_environment(local_stack.endpoint_url).items():
        monkeypatch.setenv(key, value)
    handler.reset_execution_environment()
    yield Table(name, created["TableDescription"]["LatestStreamArn"], local_stack)
    handler.reset_execution_environment()
    ddb.delete_table(TableName=name)
