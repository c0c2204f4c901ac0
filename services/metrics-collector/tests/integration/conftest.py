"""Integration fixtures: a private table per test in the session's emulator.

A table of its own (rather than ``fresh_stack``'s reset) keeps each test's
counters isolated at the cost of one CreateTable; a unique Stage dimension
value does the same for the metrics in CloudWatch.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, Callable, Iterator

import pytest

from todo_core import keys
from todo_core.cursor import CursorCodec
from todo_core.repository import TodoRepository
from todo_local.stack import LocalStack


@pytest.fixture
def table(local_stack: LocalStack) -> Iterator[str]:
    name = f"todo-app-data-{uuid.uuid4().hex[:12]}"
    ddb = local_stack.client("dynamodb")
    ddb.create_table(**keys.TABLE_SPEC.create_table_request(name))
    yield name
    ddb.delete_table(TableName=name)


@pytest.fixture
def stage() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def dynamodb(local_stack: LocalStack) -> Any:
    return local_stack.client("dynamodb")


@pytest.fixture
def cloudwatch(local_stack: LocalStack) -> Any:
    return local_stack.client("cloudwatch")


@pytest.fixture
def repo_factory(local_stack: LocalStack, table: str) -> Callable[..., TodoRepository]:
    def make(clock: Callable[[], dt.datetime], client: Any = None) -> TodoRepository:
        return TodoRepository(
            client or local_stack.client("dynamodb"),
            table,
            CursorCodec(secrets.token_bytes(32)),
            clock=clock,
        )

    return make


@pytest.fixture
def collector_env(monkeypatch: pytest.MonkeyPatch, table: str, stage: str) -> None:
    """The environment Pulumi gives the function, aimed at this test's table and stage."""
    monkeypatch.setenv("STAGE", stage)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.delenv("METRICS_NAMESPACE", raising=False)
