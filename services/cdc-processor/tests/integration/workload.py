"""A scripted workload and readers for the bronze layer, shared by the
end-to-end tests and the benchmark.

The workload writes through todo_core's ``TodoRepository`` - the same data
access layer (and so the same transactions, counters and activity markers)
the API uses - and returns what it did, change by change.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from todo_core import keys, lake
from todo_core.cursor import CursorCodec
from todo_core.events import ChangeEvent, parse_json_line
from todo_core.models import Task
from todo_core.repository import TodoRepository
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

ItemKey = Tuple[str, str]


@dataclass
class Expected:
    """What the workload changed, in order, per item."""

    #: (entity_type, event_name) -> how many changes.
    counts: Counter = field(default_factory=Counter)
    #: item key -> [(event_name, version or None), ...] in the order written.
    changes: Dict[ItemKey, List[Tuple[str, Any]]] = field(default_factory=dict)

    def add(self, key: Dict[str, str], entity: str, event_name: str, version: Any = None) -> None:
        self.counts[(entity, event_name)] += 1
        self.changes.setdefault((key[keys.PK], key[keys.SK]), []).append((event_name, version))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def repository(stack: LocalStack) -> TodoRepository:
    return TodoRepository(stack.client("dynamodb"), stack.names.table, CursorCodec(b"w" * 32))


def run_workload(stack: LocalStack, users: int = 4, tasks_per_user: int = 5, seed: int = 1) -> Expected:
    """Creates, updates, status changes and deletes for several users."""
    rng = random.Random(seed)
    repo = repository(stack)
    expected = Expected()
    for u in range(users):
        user_id = f"user-{seed}-{u}"
        repo.record_user_seen(user_id, f"{user_id}@example.com", "Test", f"User{u}")
        expected.add(keys.user_key(user_id), "user", "INSERT")
        for t in range(tasks_per_user):
            task = repo.create_task(
                Task.new(user_id, {
                    "title": f"task {t} of {user_id}",
                    "priority": rng.choice(["low", "medium", "high"]),
                    "category": rng.choice([None, "work", "home"]),
                })
            )
            key = keys.task_key(user_id, task.task_id)
            expected.add(key, "task", "INSERT", 1)
            version = 1
            for change in rng.sample(
                [{"title": f"renamed {t}"}, {"status": "in_progress"}, {"status": "completed"},
                 {"priority": "high"}, {"description": "details"}],
                k=rng.randint(1, 4),
            ):
                version = repo.update_task(user_id, task.task_id, change).version
                expected.add(key, "task", "MODIFY", version)
            if rng.random() < 0.4:
                repo.delete_task(user_id, task.task_id)
                expected.add(key, "task", "REMOVE", None)
    return expected


def bronze_objects(stack: LocalStack) -> Dict[str, str]:
    """Every object under the CDC prefix: key -> text."""
    s3 = stack.client("s3")
    out: Dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.names.bronze_bucket, Prefix=lake.BRONZE_CDC_PREFIX
    ):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=stack.names.bronze_bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = body.decode("utf-8")
    return out


def bronze_lines(stack: LocalStack) -> List[str]:
    return [line for text in bronze_objects(stack).values() for line in text.splitlines() if line]


def bronze_events(stack: LocalStack) -> List[ChangeEvent]:
    return [parse_json_line(line) for line in bronze_lines(stack)]


def stream_domain_changes(stack: LocalStack) -> Dict[str, Dict[str, Any]]:
    """Every domain-entity record in the table's stream: dedup key -> Lambda record."""
    seen: Dict[str, Dict[str, Any]] = {}

    def collect(event: Dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            item_keys = {k: v["S"] for k, v in record["dynamodb"]["Keys"].items()}
            if keys.entity_of(item_keys) is not None:
                dedup = f"{item_keys['PK']}|{item_keys['SK']}|{record['dynamodb']['SequenceNumber']}"
                seen[dedup] = record

    StreamRunner.for_stack(stack, collect, batch_size=1000).drain(60)
    return seen
