"""What each service may ask of the data store: one typed protocol per role.

* :class:`TaskStore`: a user's tasks (the API);
* :class:`ProfileStore`: user profiles (the API);
* :class:`KpiSource`: the business KPI counts (the metrics collector).

A service depends on the roles it uses and nothing more: the metrics
collector needs no cursor key, the API's tests fake only what they touch.
The DynamoDB implementations are in :mod:`todo_core.task_repository`,
:mod:`todo_core.profile_repository` and :mod:`todo_core.kpi_repository`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol

from todo_core.errors import TodoError
from todo_core.models import Task, TaskPriority, TaskStatus, User, normalize_category

#: The most tasks one user may have, unless the deployment says otherwise.
DEFAULT_TASK_QUOTA = 10_000


@dataclass(frozen=True)
class TaskFilter:
    """List filters; any combination is served by one Query.

    ``due_after`` and ``due_before`` are inclusive; either excludes undated
    tasks. Status and priority accept their enum or its value; the category
    is normalized as task categories are (a blank one means no filter).
    """

    status: Optional[TaskStatus] = None
    priority: Optional[TaskPriority] = None
    category: Optional[str] = None
    due_after: Optional[dt.date] = None
    due_before: Optional[dt.date] = None

    def __post_init__(self) -> None:
        # frozen: normalize through object.__setattr__, once, at construction.
        if self.status is not None:
            object.__setattr__(self, "status", TaskStatus(self.status))
        if self.priority is not None:
            object.__setattr__(self, "priority", TaskPriority(self.priority))
        object.__setattr__(self, "category", normalize_category(self.category))

    @property
    def has_due_range(self) -> bool:
        return self.due_after is not None or self.due_before is not None

    @property
    def is_empty_range(self) -> bool:
        """True when no date can satisfy both bounds."""
        return (
            self.due_after is not None
            and self.due_before is not None
            and self.due_after > self.due_before
        )

    def fingerprint(self) -> str:
        """An unambiguous text naming exactly this filter (part of a cursor's scope)."""
        return json.dumps(
            [
                None if v is None else str(getattr(v, "value", v))
                for v in (
                    self.status,
                    self.priority,
                    self.category,
                    self.due_after,
                    self.due_before,
                )
            ],
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class Page:
    items: List[Task]
    next_cursor: Optional[str]


@dataclass(frozen=True)
class KpiCounts:
    """Raw counts behind the business KPIs (see metrics-collector README)."""

    total_users: int
    active_users: int
    total_tasks: int
    completed_tasks: int


@dataclass(frozen=True)
class CreateClaim:
    """Makes a create exactly-once per client request (an Idempotency-Key).

    The claim is written in the same transaction as the task, so it exists
    if and only if the task was created. A re-run of the same request meets
    it and learns which task it made instead of making another.
    """

    #: Caller-scoped id of the request (the API's idempotency record id).
    request_id: str
    #: Identifies the request's content: the same id with another content
    #: is a misuse, not a retry.
    fingerprint: str
    #: Epoch seconds after which the claim no longer counts (and TTL deletes it).
    expires_at: int


class TaskAlreadyCreated(TodoError):
    """The claimed request already created a task (see :class:`CreateClaim`)."""

    def __init__(self, task_id: str, fingerprint: str) -> None:
        super().__init__(f"this request already created task {task_id}")
        self.task_id = task_id
        self.fingerprint = fingerprint


class TaskQuotaExceeded(TodoError):
    """The user already has the most tasks one user may have."""

    def __init__(self, quota: int) -> None:
        super().__init__(f"a user may have at most {quota} tasks")
        self.quota = quota


class TaskStore(Protocol):
    def create_task(self, task: Task, claim: Optional[CreateClaim] = None) -> Task: ...

    def get_task(self, user_id: str, task_id: str, consistent: bool = False) -> Task: ...

    def update_task(
        self,
        user_id: str,
        task_id: str,
        changes: Dict[str, Any],
        expected_version: Optional[int] = None,
    ) -> Task: ...

    def delete_task(
        self, user_id: str, task_id: str, expected_version: Optional[int] = None
    ) -> Task: ...

    def list_tasks(
        self,
        user_id: str,
        filters: Optional[TaskFilter] = None,
        limit: int = 20,
        cursor: Optional[str] = None,
    ) -> Page: ...


class ProfileStore(Protocol):
    def record_user_seen(
        self,
        user_id: str,
        email: Optional[str] = None,
        given_name: Optional[str] = None,
        family_name: Optional[str] = None,
    ) -> None: ...

    def get_user(self, user_id: str) -> User: ...


class KpiSource(Protocol):
    def read_kpis(self, now: Optional[dt.datetime] = None) -> KpiCounts: ...
