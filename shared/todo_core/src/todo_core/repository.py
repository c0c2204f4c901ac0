"""All three data roles over one table, for tools and tests that write everything.

Services depend on the role they use (:mod:`todo_core.ports`): the API on
:class:`~todo_core.task_repository.TaskRepository` and
:class:`~todo_core.profile_repository.ProfileRepository`, the metrics
collector on :class:`~todo_core.kpi_repository.KpiRepository`. Workload
generators, the demo and integration tests use :class:`TodoRepository`,
which is all of them at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from todo_core.cursor import CursorCodec
from todo_core.kpi_repository import KpiRepository
from todo_core.models import utc_now
from todo_core.ports import DEFAULT_TASK_QUOTA, KpiCounts, Page, TaskFilter
from todo_core.profile_repository import LAST_SEEN_RESOLUTION, ProfileRepository, user_from_item
from todo_core.task_repository import (
    MAX_ITEMS_EXAMINED,
    MAX_PAGE_SIZE,
    MAX_QUERY_ROUNDS,
    MAX_RACE_ATTEMPTS,
    TaskRepository,
    task_from_item,
    task_to_item,
)

__all__ = [
    "DEFAULT_TASK_QUOTA",
    "LAST_SEEN_RESOLUTION",
    "MAX_ITEMS_EXAMINED",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_ROUNDS",
    "MAX_RACE_ATTEMPTS",
    "KpiCounts",
    "Page",
    "TaskFilter",
    "TodoRepository",
    "task_from_item",
    "task_to_item",
    "user_from_item",
]


class TodoRepository(TaskRepository, ProfileRepository, KpiRepository):
    """Tasks, users and KPI counters in the single table."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        cursor_codec: CursorCodec,
        clock: Callable[[], dt.datetime] = utc_now,
        task_quota: int = DEFAULT_TASK_QUOTA,
    ) -> None:
        # The three roles share one table wrapper and one clock.
        TaskRepository.__init__(self, client, table_name, cursor_codec, clock, task_quota)

    @property
    def client(self) -> Any:
        """The boto3 client it calls (tests hook botocore events on it)."""
        return self._table.client
