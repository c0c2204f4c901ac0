"""Fixtures of todo_core's integration tests.

They use the ``local_stack`` fixture of the todo_local pytest plugin
(auto-loaded): one moto server per test session, reached over HTTP by
ordinary boto3 clients. Tests isolate themselves with unique user ids and, for
the KPI counters, with deltas or a clock in a year no other test writes to.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable, Iterator, List

import pytest
from support import FakeClock, OperationLog, apply_stream_to_kpis

from todo_core.cursor import CursorCodec
from todo_core.repository import TodoRepository

CURSOR_SECRET = b"integration-tests-cursor-secret-0123456789"


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def new_user_id() -> Callable[[], str]:
    return lambda: f"user-{uuid.uuid4()}"


@pytest.fixture
def user_id(new_user_id: Callable[[], str]) -> str:
    return new_user_id()


@pytest.fixture(scope="session")
def ddb(local_stack: Any) -> Any:
    return local_stack.client("dynamodb")


@pytest.fixture(scope="session")
def table_name(local_stack: Any) -> str:
    return str(local_stack.names.table)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime.now(dt.timezone.utc))


@pytest.fixture
def repo(ddb: Any, table_name: str, clock: FakeClock) -> TodoRepository:
    return TodoRepository(ddb, table_name, CursorCodec(CURSOR_SECRET), clock=clock)


@pytest.fixture
def logged_repo(local_stack: Any, table_name: str) -> Iterator[Any]:
    """A repository on its own client, with an OperationLog of what it sends."""
    client = local_stack.client("dynamodb")
    log = OperationLog(client)
    try:
        yield TodoRepository(client, table_name, CursorCodec(CURSOR_SECRET)), log
    finally:
        log.close()


@pytest.fixture
def settle_kpis(local_stack: Any, ddb: Any, table_name: str) -> Callable[[], None]:
    """Apply the table's stream to the KPI counters (what the aggregator does)."""
    return lambda: apply_stream_to_kpis(local_stack, ddb, table_name)
