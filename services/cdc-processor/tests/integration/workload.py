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
from typing import Any, Dict, List, Optional, Tuple

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


def run_workload(
    stack: LocalStack, users: int = 4, tasks_per_user: int = 5, seed: int = 1
) -> Expected:
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
                Task.new(
                    user_id,
                    {
                        "title": f"task {t} of {user_id}",
                        "priority": rng.choice(["low", "medium", "high"]),
                        "category": rng.choice([None, "work", "home"]),
                    },
                )
            )
            key = keys.task_key(user_id, task.task_id)
            expected.add(key, "task", "INSERT", 1)
            version = 1
            for change in rng.sample(
                [
                    {"title": f"renamed {t}"},
                    {"status": "in_progress"},
                    {"status": "completed"},
                    {"priority": "high"},
                    {"description": "details"},
                ],
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
                dedup = (
                    f"{item_keys['PK']}|{item_keys['SK']}|{record['dynamodb']['SequenceNumber']}"
                )
                seen[dedup] = record

    StreamRunner.for_stack(stack, collect, batch_size=1000).drain(60)
    return seen


# --- the same kind of workload, through the API over HTTP ---------------------------------


class ApiUser:
    """One signed-in user of the locally served API (plain urllib, real HTTP)."""

    def __init__(self, base_url: str, stack: LocalStack, email: str) -> None:
        from todo_local.cognito import stack_user_tokens

        self.base_url = base_url
        self.token = stack_user_tokens(stack, email).id_token

    def call(
        self, method: str, path: str, body: Any = None, headers: Optional[Dict[str, str]] = None
    ) -> Tuple[int, Any]:
        import json
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - the local API on 127.0.0.1
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # noqa: S310 - 127.0.0.1
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")


def run_api_workload(
    base_url: str, stack: LocalStack, users: int = 3, tasks_per_user: int = 3, seed: int = 1
) -> Expected:
    """Creates, updates, status changes and deletes through the API; versions from its answers."""
    import uuid

    rng = random.Random(seed)
    expected = Expected()
    for u in range(users):
        user = ApiUser(base_url, stack, f"cdc-{seed}-{u}-{uuid.uuid4().hex[:6]}@example.com")
        status, me = user.call("GET", "/api/v1/users/me")
        assert status == 200, me
        expected.add(keys.user_key(me["user_id"]), "user", "INSERT")
        for t in range(tasks_per_user):
            idempotency = {"Idempotency-Key": str(uuid.uuid4())}
            body = {"title": f"api task {t}", "priority": rng.choice(["low", "medium", "high"])}
            status, task = user.call("POST", "/api/v1/tasks", body, idempotency)
            assert status == 201, task
            # A client retry with the same key: the stored answer, not a second write.
            status, replay = user.call("POST", "/api/v1/tasks", body, idempotency)
            assert status == 201, replay
            assert replay == task, replay
            key = keys.task_key(me["user_id"], task["task_id"])
            expected.add(key, "task", "INSERT", 1)
            for change in rng.sample(
                [
                    {"title": f"renamed {t}"},
                    {"status": "in_progress"},
                    {"status": "completed"},
                    {"priority": "high"},
                    {"description": "details"},
                ],
                k=rng.randint(1, 4),
            ):
                status, updated = user.call("PATCH", f"/api/v1/tasks/{task['task_id']}", change)
                assert status == 200, updated
                expected.add(key, "task", "MODIFY", updated["version"])
            if rng.random() < 0.4:
                status, _ = user.call("DELETE", f"/api/v1/tasks/{task['task_id']}")
                assert status == 204
                expected.add(key, "task", "REMOVE", None)
    return expected
