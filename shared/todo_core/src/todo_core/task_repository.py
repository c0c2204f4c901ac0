"""A user's tasks in the single table (the :class:`~todo_core.ports.TaskStore` role).

Rules it keeps:

* every list is a ``Query`` on the table or a GSI, never a ``Scan``, and
  examines at most :data:`MAX_ITEMS_EXAMINED` items per call;
* every task write is conditional on the version it read (optimistic locking),
  so concurrent writers never lose an update;
* a task write touches only the user's own items: an update is one
  conditional write; a create or delete also moves the user's task count in
  the same transaction, so the per-user quota holds. The business KPIs are
  kept from the change stream (:mod:`todo_core.kpi_ledger`), not here;
* a create with a :class:`~todo_core.ports.CreateClaim` happens at most once.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from todo_core import keys
from todo_core.attributes import from_item, to_attribute, to_item
from todo_core.cursor import Cursors
from todo_core.dynamodb import Table, iso
from todo_core.errors import StoreUnavailable, TaskNotFound, VersionConflict
from todo_core.models import Task, utc_now
from todo_core.ports import (
    DEFAULT_TASK_QUOTA,
    CreateClaim,
    Page,
    TaskAlreadyCreated,
    TaskFilter,
    TaskQuotaExceeded,
)

MAX_PAGE_SIZE = 100
#: A filtered list reads at most this many Query pages per call, then returns
#: a short page with a cursor: latency stays bounded whatever the filter hits.
MAX_QUERY_ROUNDS = 8
#: ... and examines at most this many items (read before the filter
#: expression drops some): the read cost of one request is bounded
#: (about 63 RCU for 1 KiB items, eventually consistent).
MAX_ITEMS_EXAMINED = 500
#: Attempts of an update or delete without an expected version when other
#: writers keep getting in first (each attempt re-reads the latest version).
MAX_RACE_ATTEMPTS = 8

_TASK_FIELDS = (
    "task_id",
    "user_id",
    "title",
    "description",
    "status",
    "priority",
    "category",
    "due_date",
    "created_at",
    "updated_at",
    "completed_at",
    "version",
)
_CLAIM_SUFFIX = "#create"


def task_to_item(task: Task) -> Dict[str, Any]:
    """The full DynamoDB item (typed) for a task, GSI attributes included."""
    data: Dict[str, Any] = {
        **keys.task_key(task.user_id, task.task_id),
        **keys.task_index_attributes(
            task.user_id,
            task.task_id,
            task.status.value,
            task.priority.value,
            task.category,
            task.due_date,
        ),
        "entity_type": "task",
        "task_id": task.task_id,
        "user_id": task.user_id,
        "title": task.title,
        "status": task.status.value,
        "priority": task.priority.value,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "version": task.version,
    }
    if task.description is not None:
        data["description"] = task.description
    if task.category is not None:
        data["category"] = task.category
    if task.due_date is not None:
        data["due_date"] = task.due_date.isoformat()
    if task.completed_at is not None:
        data["completed_at"] = iso(task.completed_at)
    return to_item(data)


def task_from_item(item: Dict[str, Any]) -> Task:
    data = from_item(item)
    return Task.model_validate({k: data[k] for k in _TASK_FIELDS if k in data})


def claim_key(request_id: str) -> Dict[str, str]:
    """Key of a create claim: next to the request's idempotency record, never equal to it."""
    return keys.idempotency_key(request_id + _CLAIM_SUFFIX)


def _race_backoff(attempt: int) -> None:
    """Jittered pause before re-reading a task another writer just changed."""
    time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 5)))


@dataclass(frozen=True)
class _QueryPlan:
    index: Optional[keys.GlobalIndex]
    key_condition: str
    filter_expression: Optional[str]
    names: Dict[str, str]
    values: Dict[str, Any]


class TaskRepository:
    """Tasks (create, read, update, delete, list) of any user, each call scoped to one."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        cursor_codec: Cursors,
        clock: Callable[[], dt.datetime] = utc_now,
        task_quota: int = DEFAULT_TASK_QUOTA,
    ) -> None:
        self._table = Table(client, table_name)
        self._cursors = cursor_codec
        self._clock = clock
        self._quota = task_quota

    def _count_change(self, user_id: str, delta: int, at: dt.datetime) -> Dict[str, Any]:
        """The quota count's move, stamped with the write's time.

        The stamp is how a delete tells the stream when it happened (a
        removed item's record carries only what it was): the KPI aggregator
        marks the user active at it (:mod:`todo_core.kpi_changes`).
        """
        update: Dict[str, Any] = {
            "TableName": self._table.name,
            "Key": to_item(keys.task_count_key(user_id)),
            "UpdateExpression": "ADD #n :d SET #w = :w",
            "ExpressionAttributeNames": {"#n": "task_count", "#w": keys.LAST_WRITE_ATTRIBUTE},
            "ExpressionAttributeValues": {":d": to_attribute(delta), ":w": to_attribute(iso(at))},
        }
        if delta > 0:
            update["ConditionExpression"] = "attribute_not_exists(#n) OR #n < :quota"
            update["ExpressionAttributeValues"][":quota"] = to_attribute(self._quota)
        return {"Update": update}

    # --- writes ------------------------------------------------------------------

    def create_task(self, task: Task, claim: Optional[CreateClaim] = None) -> Task:
        """Store a new task (version 1).

        Fails with ``VersionConflict`` if the id is taken, ``TaskQuotaExceeded``
        past the user's quota, and ``TaskAlreadyCreated`` when ``claim``'s
        request already created a task (nothing is written then).
        """
        if task.version != 1:
            raise ValueError("new tasks start at version 1")
        actions = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": task_to_item(task),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            self._count_change(task.user_id, 1, task.updated_at),
        ]
        conflicts: Dict[int, Callable[[], Exception]] = {
            0: lambda: VersionConflict(None, 1),
            1: lambda: TaskQuotaExceeded(self._quota),
        }
        if claim is not None:
            now = int(self._clock().timestamp())
            actions.append(
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": to_item(
                            {
                                **claim_key(claim.request_id),
                                "task_id": task.task_id,
                                "request_fingerprint": claim.fingerprint,
                                keys.TTL_ATTRIBUTE: claim.expires_at,
                            }
                        ),
                        # An expired claim (not yet deleted by TTL) no longer counts.
                        "ConditionExpression": "attribute_not_exists(PK) OR #exp < :now",
                        "ExpressionAttributeNames": {"#exp": keys.TTL_ATTRIBUTE},
                        "ExpressionAttributeValues": {":now": to_attribute(now)},
                    }
                }
            )
            conflicts[len(actions) - 1] = functools.partial(self._claimed, claim.request_id)
        self._table.transact(actions, conflicts)
        return task

    def _claimed(self, request_id: str) -> Exception:
        response = self._table.call(
            "get_item",
            TableName=self._table.name,
            Key=to_item(claim_key(request_id)),
            ConsistentRead=True,
        )
        data = from_item(response.get("Item") or {})
        if "task_id" not in data:  # expired and deleted in between: retry
            return StoreUnavailable("the create claim changed; retry")
        return TaskAlreadyCreated(str(data["task_id"]), str(data.get("request_fingerprint", "")))

    def get_task(self, user_id: str, task_id: str, consistent: bool = False) -> Task:
        response = self._table.call(
            "get_item",
            TableName=self._table.name,
            Key=to_item(keys.task_key(user_id, task_id)),
            ConsistentRead=consistent,
        )
        if "Item" not in response:
            raise TaskNotFound(task_id)
        return task_from_item(response["Item"])

    def update_task(
        self,
        user_id: str,
        task_id: str,
        changes: Dict[str, Any],
        expected_version: Optional[int] = None,
    ) -> Task:
        """Apply a partial update.

        With ``expected_version`` (an HTTP If-Match) a stale version is a
        :class:`VersionConflict`. Without it the change is re-applied to the
        latest version when another writer got in first: partial updates
        commute with unrelated ones, and no write is ever lost.
        """
        for attempt in range(MAX_RACE_ATTEMPTS):
            current = self.get_task(user_id, task_id, consistent=True)
            if expected_version is not None and current.version != expected_version:
                raise VersionConflict(expected_version, current.version)
            updated = current.apply(changes, now=self._clock())
            try:
                # One item, one conditional write: the KPIs follow from the stream.
                self._table.write(
                    "put_item",
                    functools.partial(VersionConflict, current.version),
                    TableName=self._table.name,
                    Item=task_to_item(updated),
                    ConditionExpression="#v = :v",
                    ExpressionAttributeNames={"#v": "version"},
                    ExpressionAttributeValues={":v": to_attribute(current.version)},
                )
                return updated
            except VersionConflict:
                if expected_version is not None:
                    raise
                _race_backoff(attempt)
        raise StoreUnavailable("the task kept changing; retry")

    def delete_task(
        self, user_id: str, task_id: str, expected_version: Optional[int] = None
    ) -> Task:
        """Delete a task; returns what was deleted."""
        for attempt in range(MAX_RACE_ATTEMPTS):
            current = self.get_task(user_id, task_id, consistent=True)
            if expected_version is not None and current.version != expected_version:
                raise VersionConflict(expected_version, current.version)
            try:
                self._table.transact(
                    [
                        {
                            "Delete": {
                                "TableName": self._table.name,
                                "Key": to_item(keys.task_key(user_id, task_id)),
                                "ConditionExpression": "#v = :v",
                                "ExpressionAttributeNames": {"#v": "version"},
                                "ExpressionAttributeValues": {":v": to_attribute(current.version)},
                            }
                        },
                        self._count_change(user_id, -1, self._clock()),
                    ],
                    {0: functools.partial(VersionConflict, current.version)},
                )
                return current
            except VersionConflict:
                if expected_version is not None:
                    raise
                _race_backoff(attempt)
        raise StoreUnavailable("the task kept changing; retry")

    # --- listing -------------------------------------------------------------------

    def _plan(self, user_id: str, f: TaskFilter) -> _QueryPlan:
        names: Dict[str, str] = {}
        values: Dict[str, Any] = {}
        filters: List[str] = []
        low, high = keys.due_range(f.due_after, f.due_before)

        def add_filter(attribute: str, value: str) -> None:
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = {"S": value}
            filters.append(f"#{attribute} = :{attribute}")

        index: Optional[keys.GlobalIndex]
        if f.status is not None:
            index, partition = keys.BY_STATUS, keys.status_partition(user_id, f.status.value)
        elif f.category is not None:
            index, partition = keys.BY_CATEGORY, keys.category_partition(user_id, f.category)
        elif f.priority is not None:
            index, partition = keys.BY_PRIORITY, keys.priority_partition(user_id, f.priority.value)
        elif f.has_due_range:
            index, partition = keys.BY_DUE_DATE, keys.task_partition(user_id)
        else:
            index, partition = None, keys.task_partition(user_id)

        if index is None:
            names.update({"#pk": keys.PK, "#sk": keys.SK})
            values.update({":pk": {"S": partition}, ":prefix": {"S": keys.TASK_PREFIX}})
            condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        else:
            names["#pk"] = index.pk
            values[":pk"] = {"S": partition}
            condition = "#pk = :pk"
            if f.has_due_range:
                names["#sk"] = index.sk
                values.update({":low": {"S": low}, ":high": {"S": high}})
                condition += " AND #sk BETWEEN :low AND :high"
        if f.status is not None and f.category is not None:
            add_filter("category", f.category)
        if f.priority is not None and index is not keys.BY_PRIORITY:
            add_filter("priority", f.priority.value)
        return _QueryPlan(
            index=index,
            key_condition=condition,
            filter_expression=" AND ".join(filters) or None,
            names=names,
            values=values,
        )

    def list_tasks(
        self,
        user_id: str,
        filters: Optional[TaskFilter] = None,
        limit: int = 20,
        cursor: Optional[str] = None,
    ) -> Page:
        """One page of the user's tasks matching ``filters``.

        Ordering: creation order without filters; due date (undated last),
        then creation, with any filter. A page may be short (even empty) with
        a cursor when the read budget ran out; only a missing cursor ends.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        f = filters or TaskFilter()
        plan = self._plan(user_id, f)
        # JSON keeps the parts apart whatever characters the user id holds.
        scope = json.dumps(
            [user_id, plan.index.name if plan.index else "table", f.fingerprint()],
            separators=(",", ":"),
        )
        key_names = keys.key_attributes_for(plan.index)

        request: Dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": plan.key_condition,
            "ExpressionAttributeNames": plan.names,
            "ExpressionAttributeValues": plan.values,
        }
        if plan.index is not None:
            request["IndexName"] = plan.index.name
        if plan.filter_expression:
            request["FilterExpression"] = plan.filter_expression
        start_key = None
        if cursor:
            position = self._cursors.decode(scope, cursor)
            start_key = {name: {"S": position[name]} for name in key_names if name in position}
        if f.is_empty_range:
            # DynamoDB rejects BETWEEN with bounds out of order; nothing can match.
            return Page(items=[], next_cursor=None)

        items: List[Dict[str, Any]] = []
        last_evaluated: Optional[Dict[str, Any]] = None
        budget = MAX_ITEMS_EXAMINED
        for _ in range(MAX_QUERY_ROUNDS):
            wanted = limit + 1 - len(items)
            # Filters discard rows after the read, so read ahead more generously.
            request["Limit"] = min(budget, wanted * 4 if plan.filter_expression else wanted)
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self._table.call("query", **request)
            items.extend(response.get("Items", []))
            budget -= int(response.get("ScannedCount", request["Limit"]))
            last_evaluated = response.get("LastEvaluatedKey")
            if len(items) > limit or not last_evaluated or budget <= 0:
                break
            start_key = last_evaluated

        next_position: Optional[Dict[str, str]] = None
        if len(items) > limit:
            items = items[:limit]
            next_position = {name: items[-1][name]["S"] for name in key_names}
        elif last_evaluated:
            next_position = {name: value["S"] for name, value in last_evaluated.items()}
        return Page(
            items=[task_from_item(item) for item in items],
            next_cursor=self._cursors.encode(scope, next_position) if next_position else None,
        )
