"""The API's use cases, between the HTTP routes and todo_core's repository.

Operations that change data return a :class:`StoredResponse` (status, body,
headers) rather than raising for the outcomes a client must see the same way
on a retry (404, 412): that is what the idempotency layer stores and replays.
Server-side failures (``StoreUnavailable``, bugs) raise, so no idempotency
record survives them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Dict, Optional

from todo_api import problems
from todo_api.auth import Principal
from todo_api.idempotency import StoredResponse
from todo_api.preconditions import IfMatch, etag_for
from todo_api.schemas import TaskCreate, TaskUpdate, task_json
from todo_core.errors import TaskNotFound, UserNotFound, VersionConflict
from todo_core.models import Task, User
from todo_core.repository import Page, TaskFilter

TASKS_PATH = "/api/v1/tasks"
#: A user seen by this container within this window is not written again.
SEEN_TTL_SECONDS = 300.0
SEEN_CACHE_SIZE = 4096


def _problem(problem: problems.ProblemType, detail: str, instance: str) -> StoredResponse:
    return StoredResponse.json(
        problem.status,
        problems.problem_body(problem, detail=detail, instance=instance),
        headers={"content-type": problems.PROBLEM_CONTENT_TYPE},
    )


def task_response(task: Task, status: int = 200, location: Optional[str] = None) -> StoredResponse:
    headers = {"etag": etag_for(task.version)}
    if location:
        headers["location"] = location
    return StoredResponse.json(status, task_json(task), headers)


class SeenUsers:
    """Per-container memory of users whose profile is known to be current.

    The repository keeps last_seen_at at a 5-minute resolution anyway; this
    saves even the conditional write on every request of an active session.
    """

    def __init__(self, ttl_seconds: float = SEEN_TTL_SECONDS, size: int = SEEN_CACHE_SIZE) -> None:
        self._ttl = ttl_seconds
        self._size = size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def needs_write(self, user_id: str, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            seen_at = self._seen.get(user_id)
            return seen_at is None or now - seen_at >= self._ttl

    def mark(self, user_id: str, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._seen[user_id] = now
            self._seen.move_to_end(user_id)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)


class TaskService:
    def __init__(self, repository: Any, seen: Optional[SeenUsers] = None) -> None:
        self.repository = repository
        self.seen = seen or SeenUsers()

    # --- users ----------------------------------------------------------------

    def touch_user(self, principal: Principal) -> bool:
        """Create / refresh the caller's profile unless done recently; True if written."""
        if not self.seen.needs_write(principal.user_id):
            return False
        self.repository.record_user_seen(
            principal.user_id,
            email=principal.email,
            given_name=principal.given_name,
            family_name=principal.family_name,
        )
        self.seen.mark(principal.user_id)
        return True

    def profile(self, principal: Principal) -> User:
        try:
            return self.repository.get_user(principal.user_id)
        except UserNotFound:
            # The profile write of this request may have been skipped or lost.
            self.repository.record_user_seen(
                principal.user_id, principal.email, principal.given_name, principal.family_name
            )
            self.seen.mark(principal.user_id)
            return self.repository.get_user(principal.user_id)

    # --- tasks ----------------------------------------------------------------

    def create_task(self, user_id: str, body: TaskCreate, base_path: str) -> StoredResponse:
        task = Task.new(user_id, body.fields())
        self.repository.create_task(task)
        return task_response(task, 201, f"{base_path}{TASKS_PATH}/{task.task_id}")

    def get_task(self, user_id: str, task_id: str) -> Task:
        return self.repository.get_task(user_id, task_id)

    def _expected_version(
        self, user_id: str, task_id: str, if_match: Optional[IfMatch]
    ) -> Optional[int]:
        """The version a conditional write must find (None: unconditional)."""
        if if_match is None or if_match.any:
            return None
        if len(if_match.versions) == 1:
            return next(iter(if_match.versions))
        current = self.repository.get_task(user_id, task_id, consistent=True)
        if not if_match.matches(current.version):
            raise VersionConflict(None, current.version)
        return current.version

    def update_task(
        self,
        user_id: str,
        task_id: str,
        body: TaskUpdate,
        if_match: Optional[IfMatch],
        instance: str,
    ) -> StoredResponse:
        try:
            expected = self._expected_version(user_id, task_id, if_match)
            task = self.repository.update_task(
                user_id, task_id, body.changes(), expected_version=expected
            )
        except TaskNotFound:
            return _problem(problems.TASK_NOT_FOUND, f"no task {task_id}", instance)
        except VersionConflict:
            return _problem(
                problems.PRECONDITION_FAILED,
                "the task was changed since the ETag in If-Match; read it again",
                instance,
            )
        return task_response(task)

    def delete_task(
        self, user_id: str, task_id: str, if_match: Optional[IfMatch], instance: str
    ) -> StoredResponse:
        try:
            expected = self._expected_version(user_id, task_id, if_match)
            self.repository.delete_task(user_id, task_id, expected_version=expected)
        except TaskNotFound:
            return _problem(problems.TASK_NOT_FOUND, f"no task {task_id}", instance)
        except VersionConflict:
            return _problem(
                problems.PRECONDITION_FAILED,
                "the task was changed since the ETag in If-Match; read it again",
                instance,
            )
        return StoredResponse(status=204)

    def list_tasks(
        self, user_id: str, filters: TaskFilter, limit: int, cursor: Optional[str]
    ) -> Dict[str, Any]:
        page: Page = self.repository.list_tasks(user_id, filters, limit=limit, cursor=cursor)
        return {"items": [task_json(t) for t in page.items], "next_cursor": page.next_cursor}
