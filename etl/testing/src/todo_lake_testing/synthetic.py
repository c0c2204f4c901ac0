"""Synthetic bronze: change events shaped exactly like the CDC processor's.

Tests, benchmarks and demos need realistic bronze without the whole stack.
Images are the plain form of the items the repository writes without the
table and index key attributes (``keys.TABLE_SPEC.attributes``: storage
layout, left out of change events by the contract; the item's key is in the
event's ``keys``); ``tests/unit/test_synthetic.py`` checks them against
:func:`todo_core.repository.task_to_item`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

from todo_core import events, keys

TASK_STATUSES = ("pending", "in_progress", "completed", "cancelled")
PRIORITIES = ("low", "medium", "high", "urgent")
CATEGORIES = ("work", "home", "errands", "health", "learning", None)


def iso(ms: int) -> str:
    """Epoch millis as the API writes timestamps (UTC, microseconds, Z)."""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def task_image(task: Dict[str, Any]) -> Dict[str, Any]:
    """The plain item of a task as ``repository.task_to_item`` writes it, minus
    the key and index attributes (see the module docstring)."""
    image: Dict[str, Any] = {
        "entity_type": "task",
        "task_id": task["task_id"],
        "user_id": task["user_id"],
        "title": task["title"],
        "status": task["status"],
        "priority": task["priority"],
        "created_at": task["created_at"],
        "updated_at": task["updated_at"],
        "version": task["version"],
    }
    for name in ("description", "category", "due_date", "completed_at"):
        if task.get(name) is not None:
            image[name] = task[name]
    for name, value in task.get("extra", {}).items():
        image[name] = value
    return image


def user_image(user: Dict[str, Any]) -> Dict[str, Any]:
    image: Dict[str, Any] = {"entity_type": "user", "user_id": user["user_id"]}
    for name in ("email", "given_name", "family_name", "created_at", "last_seen_at", "version"):
        if user.get(name) is not None:
            image[name] = user[name]
    return image


class EventFactory:
    """Builds change events with stream-like, ever-increasing sequence numbers."""

    def __init__(self, first_sequence: int = 10**20, rng: Optional[random.Random] = None) -> None:
        self._sequence = first_sequence
        self._rng = rng or random.Random(0)

    def _event(
        self,
        name: str,
        entity: str,
        user_id: str,
        item_keys: Dict[str, str],
        new: Optional[Dict[str, Any]],
        old: Optional[Dict[str, Any]],
        at_ms: int,
    ) -> Dict[str, Any]:
        self._sequence += self._rng.randint(1, 1000)
        return {
            "schema_version": events.SCHEMA_VERSION,
            "event_id": uuid.UUID(int=self._rng.getrandbits(128)).hex,
            "event_name": name,
            "entity_type": entity,
            "user_id": user_id,
            "keys": item_keys,
            "new_image": new,
            "old_image": old,
            "sequence_number": str(self._sequence).zfill(21),
            "approximate_creation_time": at_ms,
        }

    def user_insert(self, user: Dict[str, Any], at_ms: int) -> Dict[str, Any]:
        return self._event(
            "INSERT",
            "user",
            user["user_id"],
            keys.user_key(user["user_id"]),
            user_image(user),
            None,
            at_ms,
        )

    def user_modify(
        self, before: Dict[str, Any], after: Dict[str, Any], at_ms: int
    ) -> Dict[str, Any]:
        return self._event(
            "MODIFY",
            "user",
            after["user_id"],
            keys.user_key(after["user_id"]),
            user_image(after),
            user_image(before),
            at_ms,
        )

    def task_insert(self, task: Dict[str, Any], at_ms: int) -> Dict[str, Any]:
        return self._event(
            "INSERT",
            "task",
            task["user_id"],
            keys.task_key(task["user_id"], task["task_id"]),
            task_image(task),
            None,
            at_ms,
        )

    def task_modify(
        self, before: Dict[str, Any], after: Dict[str, Any], at_ms: int
    ) -> Dict[str, Any]:
        return self._event(
            "MODIFY",
            "task",
            after["user_id"],
            keys.task_key(after["user_id"], after["task_id"]),
            task_image(after),
            task_image(before),
            at_ms,
        )

    def task_remove(self, before: Dict[str, Any], at_ms: int) -> Dict[str, Any]:
        return self._event(
            "REMOVE",
            "task",
            before["user_id"],
            keys.task_key(before["user_id"], before["task_id"]),
            None,
            task_image(before),
            at_ms,
        )


def new_task(
    user_id: str, task_id: str, at_ms: int, rng: random.Random, **fields: Any
) -> Dict[str, Any]:
    task = {
        "task_id": task_id,
        "user_id": user_id,
        "title": fields.pop("title", f"Task {task_id[-6:]}"),
        "status": fields.pop("status", "pending"),
        "priority": fields.pop("priority", rng.choice(PRIORITIES)),
        "category": fields.pop("category", rng.choice(CATEGORIES)),
        "created_at": iso(at_ms),
        "updated_at": iso(at_ms),
        "version": 1,
        **fields,
    }
    if task["status"] == "completed":
        task["completed_at"] = task["created_at"]
    return task


def updated(task: Dict[str, Any], changes: Dict[str, Any], at_ms: int) -> Dict[str, Any]:
    """``task`` with ``changes``, following the model's completed_at rule."""
    after = {**task, **changes, "updated_at": iso(at_ms), "version": task["version"] + 1}
    if after["status"] == "completed":
        after["completed_at"] = task.get("completed_at") or iso(at_ms)
    else:
        after.pop("completed_at", None)
    return after


def workload(
    num_users: int,
    tasks_per_user: int,
    updates_per_task: int,
    start_ms: int,
    span_ms: int = 3 * 24 * 3600 * 1000,
    seed: int = 7,
    delete_every: int = 0,
) -> Iterator[Dict[str, Any]]:
    """A plausible history in time order: users sign up, create tasks, update them
    (status moves forward), and every ``delete_every``-th task is deleted."""
    rng = random.Random(seed)
    factory = EventFactory(rng=random.Random(seed + 1))
    step = max(
        1, span_ms // max(1, num_users * tasks_per_user * (updates_per_task + 1) + num_users)
    )
    clock = start_ms
    for u in range(num_users):
        user_id = f"user-{u:06d}"
        user = {
            "user_id": user_id,
            "email": f"{user_id}@example.com",
            "given_name": "User",
            "family_name": f"{u}",
            "created_at": iso(clock),
            "last_seen_at": iso(clock),
        }
        yield factory.user_insert(user, clock)
        clock += step
        for t in range(tasks_per_user):
            task = new_task(user_id, f"{user_id}-task-{t:05d}", clock, rng)
            yield factory.task_insert(task, clock)
            clock += step
            for k in range(updates_per_task):
                status = TASK_STATUSES[min(k + 1, 2)] if rng.random() < 0.7 else task["status"]
                after = updated(task, {"status": status, "title": f"{task['title']}'"}, clock)
                yield factory.task_modify(task, after, clock)
                task = after
                clock += step
            if delete_every and (u * tasks_per_user + t) % delete_every == delete_every - 1:
                yield factory.task_remove(task, clock)
                clock += step


def object_key(at_ms: int, number: int, layout: str = "emulator", prefix: str = "cdc/") -> str:
    """A bronze key as the emulator's Firehose (``YYYY/MM/DD/HH/``) or AWS's writes it."""
    moment = dt.datetime.fromtimestamp(at_ms / 1000, dt.timezone.utc)
    name = f"todo-cdc-stream-1-{moment:%Y-%m-%d-%H-%M-%S}-{number:08d}"
    if layout == "aws":
        return (
            f"{prefix}year={moment:%Y}/month={moment:%m}/day={moment:%d}/hour={moment:%H}/{name}.gz"
        )
    return f"{prefix}{moment:%Y/%m/%d/%H}/{name}"


def encode(lines: Iterable[Dict[str, Any]], compress: bool = False) -> bytes:
    body = "".join(events.to_json_line(e) for e in lines).encode("utf-8")
    return gzip.compress(body, mtime=0) if compress else body


def split(events_: Sequence[Dict[str, Any]], per_object: int) -> List[List[Dict[str, Any]]]:
    return [list(events_[i : i + per_object]) for i in range(0, len(events_), per_object)]


def put_objects(
    s3: Any,
    bucket: str,
    groups: Sequence[Sequence[Dict[str, Any]]],
    layout: str = "emulator",
    start_number: int = 0,
) -> List[str]:
    """Write each group of events as one bronze object; returns the keys."""
    written = []
    for i, group in enumerate(groups):
        if not group:
            continue
        at = min(e["approximate_creation_time"] for e in group)
        key = object_key(at, start_number + i, layout)
        s3.put_object(Bucket=bucket, Key=key, Body=encode(group, compress=(layout == "aws")))
        written.append(key)
    return written
