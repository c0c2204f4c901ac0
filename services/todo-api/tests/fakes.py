"""In-memory stand-ins for the data store, for unit tests and benchmarks.

:class:`InMemoryRepository` plays the task and profile roles of
``todo_core.ports`` (errors, versions, create claims, the quota, the
completed_at rule via ``Task.apply``) without DynamoDB, so tests of the HTTP
layer and the per-request overhead benchmark measure the API, not the
database. The idempotency store is a Powertools persistence layer with
DynamoDB's conditional-put semantics and a switch to fail completions.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Dict, List, Optional, Tuple

from todo_core.errors import InvalidCursor, TaskNotFound, UserNotFound, VersionConflict
from todo_core.models import Task, User, utc_now
from todo_core.ports import CreateClaim, Page, TaskAlreadyCreated, TaskFilter, TaskQuotaExceeded


class InMemoryRepository:
    def __init__(self, task_quota: int = 10_000) -> None:
        self.task_quota = task_quota
        #: request id -> (task id, fingerprint): the create claims.
        self.claims: Dict[str, Tuple[str, str]] = {}
        self.tasks: Dict[Tuple[str, str], Task] = {}
        #: user id -> task id -> task: a list costs the user's tasks, not everyone's.
        self._by_user: Dict[str, Dict[str, Task]] = {}
        self.users: Dict[str, User] = {}
        self.calls: List[str] = []
        #: The ``consistent`` flag of every single-task read, in order.
        self.consistent_reads: List[bool] = []
        self._lock = threading.Lock()

    def _count(self, call: str) -> None:
        # Bounded: benchmarks make hundreds of thousands of calls.
        if len(self.calls) < 10_000:
            self.calls.append(call)

    def create_task(self, task: Task, claim: Optional[CreateClaim] = None) -> Task:
        with self._lock:
            self._count("create_task")
            key = (task.user_id, task.task_id)
            if key in self.tasks:
                raise VersionConflict(None, 1)
            if claim is not None and claim.request_id in self.claims:
                raise TaskAlreadyCreated(*self.claims[claim.request_id])
            if len(self._by_user.get(task.user_id, {})) >= self.task_quota:
                raise TaskQuotaExceeded(self.task_quota)
            if claim is not None:
                self.claims[claim.request_id] = (task.task_id, claim.fingerprint)
            self.tasks[key] = task
            self._by_user.setdefault(task.user_id, {})[task.task_id] = task
            return task

    def get_task(self, user_id: str, task_id: str, consistent: bool = False) -> Task:
        with self._lock:
            self._count("get_task")
            self.consistent_reads.append(consistent)
            try:
                return self.tasks[(user_id, task_id)]
            except KeyError:
                raise TaskNotFound(task_id) from None

    def update_task(
        self,
        user_id: str,
        task_id: str,
        changes: Dict[str, Any],
        expected_version: Optional[int] = None,
    ) -> Task:
        with self._lock:
            self._count("update_task")
            current = self.tasks.get((user_id, task_id))
            if current is None:
                raise TaskNotFound(task_id)
            if expected_version is not None and expected_version != current.version:
                raise VersionConflict(expected_version, current.version)
            updated = current.apply(changes)
            self.tasks[(user_id, task_id)] = updated
            self._by_user[user_id][task_id] = updated
            return updated

    def delete_task(
        self, user_id: str, task_id: str, expected_version: Optional[int] = None
    ) -> Task:
        with self._lock:
            self._count("delete_task")
            current = self.tasks.get((user_id, task_id))
            if current is None:
                raise TaskNotFound(task_id)
            if expected_version is not None and expected_version != current.version:
                raise VersionConflict(expected_version, current.version)
            del self.tasks[(user_id, task_id)]
            del self._by_user[user_id][task_id]
            return current

    def list_tasks(
        self,
        user_id: str,
        filters: Optional[TaskFilter] = None,
        limit: int = 20,
        cursor: Optional[str] = None,
    ) -> Page:
        f = filters or TaskFilter()
        with self._lock:
            self._count("list_tasks")
            mine = sorted(self._by_user.get(user_id, {}).values(), key=lambda t: t.task_id)
        selected = [
            t
            for t in mine
            if (f.status is None or t.status == f.status)
            and (f.priority is None or t.priority == f.priority)
            and (f.category is None or t.category == f.category)
            and (f.due_after is None or (t.due_date is not None and t.due_date >= f.due_after))
            and (f.due_before is None or (t.due_date is not None and t.due_date <= f.due_before))
        ]
        start = 0
        if cursor:
            ids = [t.task_id for t in selected]
            if cursor not in ids:
                raise InvalidCursor("unknown cursor")
            start = ids.index(cursor) + 1
        page = selected[start : start + limit]
        more = start + limit < len(selected)
        return Page(items=page, next_cursor=page[-1].task_id if more and page else None)

    def record_user_seen(
        self,
        user_id: str,
        email: Optional[str] = None,
        given_name: Optional[str] = None,
        family_name: Optional[str] = None,
    ) -> None:
        with self._lock:
            self._count("record_user_seen")
            now = utc_now()
            existing = self.users.get(user_id)
            self.users[user_id] = User(
                user_id=user_id,
                email=email,
                given_name=given_name,
                family_name=family_name,
                created_at=existing.created_at if existing else now,
                last_seen_at=now,
                version=existing.version + 1 if existing else 1,
            )

    def get_user(self, user_id: str) -> User:
        with self._lock:
            self._count("get_user")
            try:
                return self.users[user_id]
            except KeyError:
                raise UserNotFound(user_id) from None


def in_memory_idempotency(ttl_seconds: int = 86400, in_flight_seconds: int = 30) -> Any:
    """A :class:`todo_api.idempotency.Idempotency` over an in-memory store."""
    from todo_api.idempotency import Idempotency

    return Idempotency(_memory_store(), ttl_seconds, in_flight_seconds)


def _memory_store() -> Any:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyItemAlreadyExistsError,
        IdempotencyItemNotFoundError,
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    from todo_api.idempotency import CompletionTolerantStore

    class InMemoryIdempotencyStore(CompletionTolerantStore, BasePersistenceLayer):
        def __init__(self) -> None:
            super().__init__()
            self.records: Dict[str, DataRecord] = {}
            #: How many completion writes fail next (like a throttled UpdateItem).
            self.fail_completions = 0
            self._lock = threading.Lock()

        def _get_hashed_idempotency_key(self, data: Dict[str, Any]) -> Optional[str]:
            record = data.get("record") if isinstance(data, dict) else None
            return record if isinstance(record, str) and record else None

        def _get_record(self, idempotency_key: str) -> DataRecord:
            with self._lock:
                try:
                    return self.records[idempotency_key]
                except KeyError:
                    raise IdempotencyItemNotFoundError() from None

        def _put_record(self, data_record: DataRecord) -> None:
            now = dt.datetime.now()
            with self._lock:
                old = self.records.get(data_record.idempotency_key)
                free = (
                    old is None
                    or (old.expiry_timestamp or 0) < int(now.timestamp())
                    or (
                        old.status == "INPROGRESS"
                        and old.in_progress_expiry_timestamp is not None
                        and old.in_progress_expiry_timestamp < int(now.timestamp() * 1000)
                    )
                )
                if not free:
                    assert old is not None
                    if (
                        self.payload_validation_enabled
                        and old.payload_hash != data_record.payload_hash
                    ):
                        raise IdempotencyValidationError("payload does not match")
                    raise IdempotencyItemAlreadyExistsError(old_data_record=old)
                self.records[data_record.idempotency_key] = data_record

        def _update_record(self, data_record: DataRecord) -> None:
            if self.fail_completions:
                self.fail_completions -= 1
                raise RuntimeError("throttled")
            with self._lock:
                self.records[data_record.idempotency_key] = data_record

        def _delete_record(self, data_record: DataRecord) -> None:
            with self._lock:
                self.records.pop(data_record.idempotency_key, None)

    return InMemoryIdempotencyStore()
