"""Event logs for the silver tests on both engines: tasks and profiles
created, changed and deleted, with attributes silver does not know (one that
changes type), re-delivered and reordered in bronze, with records that break
the contract and API request logs."""

from __future__ import annotations

import json
import random
from typing import Any, Dict, List, Tuple

from hypothesis import strategies as st
from silver_lakes import START_MS

from todo_core import keys
from todo_lake_testing import synthetic

BAD_LINES = (
    b'{"schema_version": 1, "event_id": "broken", \n',  # invalid JSON
    b'{"schema_version": 1, "event_name": "INSERT", "entity_type": "task"}\n',  # contract
)


def user_modify(
    factory: synthetic.EventFactory, before: Dict[str, Any], after: Dict[str, Any], at: int
) -> Dict[str, Any]:
    return factory._event(
        "MODIFY",
        "user",
        after["user_id"],
        keys.user_key(after["user_id"]),
        synthetic.user_image(after),
        synthetic.user_image(before),
        at,
    )


def history(seed: int, steps: int = 12, extras: bool = True) -> List[Dict[str, Any]]:
    """A plausible event log in time order (``seed`` decides everything)."""
    rng = random.Random(seed)
    factory = synthetic.EventFactory(rng=random.Random(seed + 1))
    clock = START_MS
    log: List[Dict[str, Any]] = []
    users: Dict[str, Dict[str, Any]] = {}
    tasks: Dict[int, Dict[str, Any]] = {}
    for u in range(2):
        user = {
            "user_id": f"user-{u}#{seed % 7}",
            "email": f"u{u}@example.com",
            "given_name": "Ann",
            "created_at": synthetic.iso(clock),
        }
        users[user["user_id"]] = user
        log.append(factory.user_insert(user, clock))
        clock += rng.randint(1, 10**6)
    for step in range(steps):
        clock += rng.randint(1, 6 * 3600 * 1000)
        index = rng.randint(0, 3)
        task = tasks.get(index)
        if task is None:
            owner = rng.choice(sorted(users))
            fields: Dict[str, Any] = {}
            if extras and rng.random() < 0.5:
                fields["extra"] = {
                    "points": rng.randint(0, 5),
                    "Labels": ["a", "b"][: rng.randint(1, 2)],
                }
            task = synthetic.new_task(owner, f"task-{index}-{step}", clock, rng, **fields)
            log.append(factory.task_insert(task, clock))
            tasks[index] = task
        elif rng.random() < 0.75:
            changes: Dict[str, Any] = rng.choice(
                [
                    {"status": rng.choice(synthetic.TASK_STATUSES)},
                    {"title": f"v{task['version'] + 1}"},
                    {"category": rng.choice(["work", "home"])},
                ]
            )
            after = synthetic.updated(task, changes, clock)
            if extras and rng.random() < 0.3:
                # An attribute silver does not know changes type: widened to text.
                after["extra"] = {**after.get("extra", {}), "points": rng.choice([3, "three"])}
            log.append(factory.task_modify(task, after, clock))
            tasks[index] = after
        else:
            log.append(factory.task_remove(task, clock))
            del tasks[index]
        if rng.random() < 0.2:
            user_id = rng.choice(sorted(users))
            before = users[user_id]
            after_user = {**before, "last_seen_at": synthetic.iso(clock), "family_name": f"F{step}"}
            log.append(user_modify(factory, before, after_user, clock))
            users[user_id] = after_user
    return log


def request_log_lines(seed: int, count: int = 4) -> List[bytes]:
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        record = {
            "level": "INFO",
            "message": "request",
            "service": "todo-api",
            "request_id": f"req-{seed}-{i}",
            "operation": rng.choice(["list_tasks", "create_task"]),
            "status_code": rng.choice([200, 201, 404, 500]),
            "duration_ms": rng.randint(1, 900) / 10,
            "user_id": f"user-{i % 2}",
            "method": "GET",
            "path": "/tasks",
            "timestamp": synthetic.iso(START_MS + rng.randint(0, 3 * 24 * 3600 * 1000)),
        }
        lines.append(json.dumps(record).encode() + b"\n")
    return lines


@st.composite
def bronze(draw: Any) -> Tuple[List[List[Dict[str, Any]]], List[int], List[bytes]]:
    """``(objects of events, objects that get a bad record appended, request log lines)``:
    an event log, some of its events delivered twice, in any order, cut into objects."""
    seed = draw(st.integers(0, 10**6))
    log = history(seed, steps=draw(st.integers(3, 14)))
    copies = draw(st.lists(st.sampled_from(range(len(log))), max_size=4))
    delivered = draw(st.permutations(log + [log[i] for i in copies]))
    cuts = sorted(
        draw(st.lists(st.integers(1, max(1, len(delivered) - 1)), max_size=3, unique=True))
    )
    objects, start = [], 0
    for cut in [*cuts, len(delivered)]:
        if cut > start:
            objects.append(list(delivered[start:cut]))
            start = cut
    bad = draw(st.lists(st.sampled_from(range(len(objects))), max_size=2, unique=True))
    requests = request_log_lines(seed, draw(st.integers(0, 4)))
    if requests and draw(st.booleans()):
        requests = requests + requests[:1] + [b"not json\n"]
    return objects, bad, requests


def put_bronze(
    lake: Any,
    objects: List[List[Dict[str, Any]]],
    bad: List[int],
    requests: List[bytes],
    start: int = 0,
) -> None:
    """Write the objects as bronze (bad records appended where asked) and the request logs."""
    keys_ = lake.put_events(objects, start_number=start)
    for n, key in enumerate(keys_):
        if n in bad:
            path = f"{lake.bronze_dir}/{key}"
            with open(path, "ab") as handle:
                handle.write(BAD_LINES[n % len(BAD_LINES)])
    if requests:
        key = synthetic.object_key(START_MS, start, prefix="logs/")
        lake.put_raw(key, b"".join(requests))
