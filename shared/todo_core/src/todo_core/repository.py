"""The data access layer over boto3's low-level DynamoDB client.

Rules it keeps:

* every list is a ``Query`` on the table or a GSI, never a ``Scan``;
* every task write is conditional on the version it read (optimistic locking),
  so concurrent writers never lose an update;
* every task write also moves the KPI counters and the writer's daily
  activity marker in the same transaction, so the business metrics are exact
  and cheap to read (see :meth:`TodoRepository.read_kpis`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Set

from todo_core import keys
from todo_core.attributes import from_item, to_attribute, to_item
from todo_core.cursor import CursorCodec
from todo_core.errors import (
    StoreUnavailable,
    TaskNotFound,
    UserNotFound,
    VersionConflict,
)
from todo_core.models import Task, TaskPriority, TaskStatus, User, normalize_category, utc_now

MAX_PAGE_SIZE = 100
#: A filtered list reads at most this many Query pages per call, then returns
#: a short page with a cursor: latency stays bounded whatever the filter hits.
MAX_QUERY_ROUNDS = 8
#: Write retries when DynamoDB reports a transaction conflict (two writers on
#: the same counter shard or activity marker) or a version race without If-Match.
MAX_WRITE_ATTEMPTS = 4
#: Attempts of an update or delete without an expected version when other
#: writers keep getting in first (each attempt re-reads the latest version).
MAX_RACE_ATTEMPTS = 8
#: Users are marked "seen" at most this often, to keep reads cheap.
LAST_SEEN_RESOLUTION = dt.timedelta(minutes=5)

_THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}
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


def _iso(value: dt.datetime) -> str:
    return (
        value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


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
class _QueryPlan:
    index: Optional[keys.GlobalIndex]
    key_condition: str
    filter_expression: Optional[str]
    names: Dict[str, str]
    values: Dict[str, Any]


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
        "created_at": _iso(task.created_at),
        "updated_at": _iso(task.updated_at),
        "version": task.version,
    }
    if task.description is not None:
        data["description"] = task.description
    if task.category is not None:
        data["category"] = task.category
    if task.due_date is not None:
        data["due_date"] = task.due_date.isoformat()
    if task.completed_at is not None:
        data["completed_at"] = _iso(task.completed_at)
    return to_item(data)


def task_from_item(item: Dict[str, Any]) -> Task:
    data = from_item(item)
    return Task.model_validate({k: data[k] for k in _TASK_FIELDS if k in data})


def user_from_item(item: Dict[str, Any]) -> User:
    data = from_item(item)
    fields = ("user_id", "email", "given_name", "family_name", "created_at", "last_seen_at")
    return User.model_validate({k: data[k] for k in fields if k in data})


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _is_connection_error(exc: Exception) -> bool:
    # Imported here: only failures pay for it, and todo_core imports stay light.
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, (BotoConnectionError, HTTPClientError))


def _race_backoff(attempt: int) -> None:
    """Jittered pause before re-reading a task another writer just changed."""
    time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 5)))


def _cancellation_codes(exc: Exception) -> List[str]:
    response = getattr(exc, "response", None) or {}
    reasons = response.get("CancellationReasons")
    if reasons:
        return [str(r.get("Code", "None")) for r in reasons]
    # Some emulators only put the reasons in the message: "... [A, B, C]".
    message = str(response.get("Error", {}).get("Message", ""))
    if "[" in message and message.endswith("]"):
        return [c.strip() for c in message[message.rindex("[") + 1 : -1].split(",")]
    return []


class TodoRepository:
    """Tasks, users and KPI counters in the single table."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        cursor_codec: CursorCodec,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._client = client
        self._table = table_name
        self._cursors = cursor_codec
        self._clock = clock

    # --- plumbing ---------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            result: Dict[str, Any] = getattr(self._client, operation)(**kwargs)
            return result
        except Exception as exc:
            if _error_code(exc) in _THROTTLING_CODES:
                raise StoreUnavailable(f"DynamoDB {operation} throttled") from exc
            if _is_connection_error(exc):
                raise StoreUnavailable(f"DynamoDB unreachable during {operation}") from exc
            raise

    def _counter_update(self, deltas: Dict[str, int]) -> Dict[str, Any]:
        names = {f"#c{i}": name for i, name in enumerate(deltas)}
        values = {f":d{i}": to_attribute(delta) for i, delta in enumerate(deltas.values())}
        return {
            "Update": {
                "TableName": self._table,
                # Any shard will do: the reader sums them. Random spreads contention.
                "Key": to_item(keys.stats_key(random.randrange(keys.STATS_SHARDS))),
                "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values)),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _activity_put(self, user_id: str, now: dt.datetime) -> Dict[str, Any]:
        # Activity partitions are UTC days (read_kpis reads them so), whatever
        # zone the clock's datetimes are in.
        now = now.astimezone(dt.timezone.utc)
        item = {
            **keys.activity_key(now.date(), user_id),
            "user_id": user_id,
            "last_active_at": _iso(now),
            keys.TTL_ATTRIBUTE: int(now.timestamp()) + keys.ACTIVITY_TTL_SECONDS,
        }
        return {"Put": {"TableName": self._table, "Item": to_item(item)}}

    def _transact(
        self, actions: Sequence[Dict[str, Any]], conflict: Callable[[], Exception]
    ) -> None:
        """Run a transaction; the first action's failed condition raises ``conflict()``.

        Transaction conflicts with other writers (shared counter shards) are
        retried with jittered backoff; they never surface as errors.
        """
        for attempt in range(MAX_WRITE_ATTEMPTS):
            try:
                self._call("transact_write_items", TransactItems=list(actions))
                return
            except StoreUnavailable:
                raise
            except Exception as exc:
                if _error_code(exc) != "TransactionCanceledException":
                    raise
                codes = _cancellation_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise conflict() from exc
                if any(c in ("ThrottlingError", "ProvisionedThroughputExceeded") for c in codes):
                    raise StoreUnavailable("DynamoDB transaction throttled") from exc
                if attempt == MAX_WRITE_ATTEMPTS - 1:
                    raise StoreUnavailable("DynamoDB transaction conflicts persisted") from exc
                time.sleep(random.uniform(0, 0.02 * 2**attempt))

    # --- tasks --------------------------------------------------------------------

    def create_task(self, task: Task) -> Task:
        """Store a new task (version 1). Fails if the id is already taken."""
        if task.version != 1:
            raise ValueError("new tasks start at version 1")
        deltas = {"tasks": 1, "completed": 1 if task.is_completed else 0}
        self._transact(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": task_to_item(task),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                self._counter_update(deltas),
                self._activity_put(task.user_id, task.updated_at),
            ],
            conflict=lambda: VersionConflict(None, 1),
        )
        return task

    def get_task(self, user_id: str, task_id: str, consistent: bool = False) -> Task:
        response = self._call(
            "get_item",
            TableName=self._table,
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
            deltas = {"completed": int(updated.is_completed) - int(current.is_completed)}
            actions = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": task_to_item(updated),
                        "ConditionExpression": "#v = :v",
                        "ExpressionAttributeNames": {"#v": "version"},
                        "ExpressionAttributeValues": {":v": to_attribute(current.version)},
                    }
                },
                self._activity_put(user_id, updated.updated_at),
            ]
            if deltas["completed"]:
                actions.append(self._counter_update(deltas))
            try:
                self._transact(
                    actions, conflict=functools.partial(VersionConflict, current.version)
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
            deltas = {"tasks": -1, "completed": -int(current.is_completed)}
            try:
                self._transact(
                    [
                        {
                            "Delete": {
                                "TableName": self._table,
                                "Key": to_item(keys.task_key(user_id, task_id)),
                                "ConditionExpression": "#v = :v",
                                "ExpressionAttributeNames": {"#v": "version"},
                                "ExpressionAttributeValues": {":v": to_attribute(current.version)},
                            }
                        },
                        self._counter_update(deltas),
                        self._activity_put(user_id, self._clock()),
                    ],
                    conflict=functools.partial(VersionConflict, current.version),
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
        then creation, with any filter.
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
            "TableName": self._table,
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
        for _ in range(MAX_QUERY_ROUNDS):
            wanted = limit + 1 - len(items)
            # Filters discard rows after the read, so read ahead more generously.
            request["Limit"] = min(1000, wanted * 4 if plan.filter_expression else wanted)
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = self._call("query", **request)
            items.extend(response.get("Items", []))
            last_evaluated = response.get("LastEvaluatedKey")
            if len(items) > limit or not last_evaluated:
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

    # --- users -----------------------------------------------------------------------

    def record_user_seen(
        self,
        user_id: str,
        email: Optional[str] = None,
        given_name: Optional[str] = None,
        family_name: Optional[str] = None,
    ) -> None:
        """Create the user's profile on first sight; keep last_seen_at current.

        One conditional write in the common case; the profile is created (and
        TotalUsers incremented) exactly once, even under concurrent requests.
        """
        now = self._clock()
        key = to_item(keys.user_key(user_id))
        profile = {
            "email": email,
            "given_name": given_name,
            "family_name": family_name,
        }
        present = {k: v for k, v in profile.items() if v is not None}
        sets = ", ".join(f"#{k} = :{k}" for k in ["last_seen_at", *present])
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key=key,
                UpdateExpression=f"SET {sets}",
                ConditionExpression="attribute_exists(PK) AND #last_seen_at < :stale",
                ExpressionAttributeNames={f"#{k}": k for k in ["last_seen_at", *present]},
                ExpressionAttributeValues={
                    ":last_seen_at": {"S": _iso(now)},
                    ":stale": {"S": _iso(now - LAST_SEEN_RESOLUTION)},
                    **{f":{k}": {"S": v} for k, v in present.items()},
                },
            )
            return
        except StoreUnavailable:
            raise
        except Exception as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
        # Either the profile is fresh (nothing to do) or it does not exist yet.
        item = to_item(
            {
                **keys.user_key(user_id),
                "entity_type": "user",
                "user_id": user_id,
                **present,
                "created_at": _iso(now),
                "last_seen_at": _iso(now),
            }
        )
        # A failed condition means it exists and was seen recently: nothing to do.
        with contextlib.suppress(VersionConflict):
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    self._counter_update({"users": 1}),
                ],
                conflict=lambda: VersionConflict(None),
            )

    def get_user(self, user_id: str) -> User:
        response = self._call(
            "get_item", TableName=self._table, Key=to_item(keys.user_key(user_id))
        )
        if "Item" not in response:
            raise UserNotFound(user_id)
        return user_from_item(response["Item"])

    # --- KPIs ------------------------------------------------------------------------------

    def read_kpis(self, now: Optional[dt.datetime] = None) -> KpiCounts:
        """The exact KPI counts, at a cost independent of the number of tasks.

        Reads the counter shards (one BatchGetItem) and the activity markers of
        the last two days (cost grows with active users only).
        """
        # UTC, as the activity partitions' days are (see _activity_put).
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        shard_keys = [to_item(keys.stats_key(s)) for s in range(keys.STATS_SHARDS)]
        totals = {"users": 0, "tasks": 0, "completed": 0}
        pending: Dict[str, Any] = {self._table: {"Keys": shard_keys, "ConsistentRead": True}}
        while pending:
            response = self._call("batch_get_item", RequestItems=pending)
            for item in response.get("Responses", {}).get(self._table, []):
                data = from_item(item)
                for name in totals:
                    totals[name] += int(data.get(name, 0))
            pending = response.get("UnprocessedKeys") or {}

        since = now - dt.timedelta(hours=24)
        active: Set[str] = set()
        for day in (since.date(), now.date()):
            for shard in range(keys.ACTIVITY_SHARDS):
                active |= self._active_users_in(keys.activity_partition(day, shard), since)
        return KpiCounts(
            total_users=totals["users"],
            active_users=len(active),
            total_tasks=totals["tasks"],
            completed_tasks=totals["completed"],
        )

    def _active_users_in(self, partition: str, since: dt.datetime) -> Set[str]:
        request: Dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#t >= :since",
            "ProjectionExpression": "#u",
            "ExpressionAttributeNames": {"#pk": keys.PK, "#t": "last_active_at", "#u": "user_id"},
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":since": {"S": _iso(since)}},
        }
        users: Set[str] = set()
        while True:
            response = self._call("query", **request)
            users.update(item["user_id"]["S"] for item in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return users
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
