"""The API's use cases, between the HTTP routes and todo_core's stores.

Everything here returns domain objects or raises domain errors; what a
client sees for each is decided in :mod:`todo_api.http_errors` alone.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Optional

from todo_api.auth import Principal
from todo_api.idempotency import IdempotencyKeyReused
from todo_api.preconditions import IfMatch
from todo_core.errors import UserNotFound, VersionConflict
from todo_core.models import Task, User
from todo_core.ports import (
    CreateClaim,
    Page,
    ProfileStore,
    TaskAlreadyCreated,
    TaskFilter,
    TaskStore,
)

#: A user seen by this container within this window is not written again.
SEEN_TTL_SECONDS = 300.0
SEEN_CACHE_SIZE = 4096


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


@dataclass(frozen=True)
class Created:
    task: Task
    #: True when this request had already created the task (a retried create).
    earlier: bool = False


class TaskService:
    def __init__(
        self, tasks: TaskStore, profiles: ProfileStore, seen: Optional[SeenUsers] = None
    ) -> None:
        self.tasks = tasks
        self.profiles = profiles
        self.seen = seen or SeenUsers()

    # --- users ----------------------------------------------------------------

    def touch_user(self, principal: Principal) -> bool:
        """Create / refresh the caller's profile unless done recently; True if written."""
        if not self.seen.needs_write(principal.user_id):
            return False
        self.profiles.record_user_seen(
            principal.user_id,
            email=principal.email,
            given_name=principal.given_name,
            family_name=principal.family_name,
        )
        self.seen.mark(principal.user_id)
        return True

    def profile(self, principal: Principal) -> User:
        try:
            return self.profiles.get_user(principal.user_id)
        except UserNotFound:
            # The profile write of this request may have been skipped or lost.
            self.profiles.record_user_seen(
                principal.user_id, principal.email, principal.given_name, principal.family_name
            )
            self.seen.mark(principal.user_id)
            return self.profiles.get_user(principal.user_id)

    # --- tasks ----------------------------------------------------------------

    def create_task(
        self, user_id: str, fields: Dict[str, Any], claim: Optional[CreateClaim] = None
    ) -> Created:
        """A new task; with a claim, the task this request already created, if any."""
        try:
            return Created(self.tasks.create_task(Task.new(user_id, fields), claim))
        except TaskAlreadyCreated as done:
            if claim is None or done.fingerprint != claim.fingerprint:
                raise IdempotencyKeyReused(str(done)) from done
            return Created(self.get_task(user_id, done.task_id), earlier=True)

    def get_task(self, user_id: str, task_id: str) -> Task:
        # Strongly consistent: a task is readable right after its 201, and its
        # ETag is the current one (no spurious 412 on read-then-If-Match).
        return self.tasks.get_task(user_id, task_id, consistent=True)

    def _expected_version(
        self, user_id: str, task_id: str, if_match: Optional[IfMatch]
    ) -> Optional[int]:
        """The version a conditional write must find (None: unconditional)."""
        if if_match is None or if_match.any:
            return None
        if len(if_match.versions) == 1:
            return next(iter(if_match.versions))
        current = self.get_task(user_id, task_id)
        if not if_match.matches(current.version):
            raise VersionConflict(None, current.version)
        return current.version

    def update_task(
        self, user_id: str, task_id: str, changes: Dict[str, Any], if_match: Optional[IfMatch]
    ) -> Task:
        expected = self._expected_version(user_id, task_id, if_match)
        return self.tasks.update_task(user_id, task_id, changes, expected_version=expected)

    def delete_task(self, user_id: str, task_id: str, if_match: Optional[IfMatch]) -> Task:
        expected = self._expected_version(user_id, task_id, if_match)
        return self.tasks.delete_task(user_id, task_id, expected_version=expected)

    def list_tasks(
        self, user_id: str, filters: TaskFilter, limit: int, cursor: Optional[str]
    ) -> Page:
        return self.tasks.list_tasks(user_id, filters, limit=limit, cursor=cursor)
