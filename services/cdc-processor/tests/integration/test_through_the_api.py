"""The whole path as users drive it: HTTP requests to the API (served locally
against the emulator) -> table -> stream -> local event source mapping (in
the background, as ``nox -s dev`` runs it) -> handler -> Firehose -> bronze.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from workload import ApiUser, bronze_events, run_api_workload, stream_domain_changes

from todo_core import keys
from todo_core.attributes import plain_image
from todo_core.events import ChangeEvent, domain_image
from todo_local.api_process import ApiProcess
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner
from todo_local.waiting import wait_for

pytestmark = pytest.mark.integration


def _table(stack: LocalStack) -> Dict[Tuple[str, str], dict]:
    items = {}
    for page in (
        stack.client("dynamodb").get_paginator("scan").paginate(TableName=stack.names.table)
    ):
        for item in page["Items"]:
            items[(item["PK"]["S"], item["SK"]["S"])] = item
    return items


def test_api_changes_arrive_in_bronze_exactly_once_in_order(
    fresh_stack: LocalStack, tmp_path: Path
) -> None:
    with (
        ApiProcess(fresh_stack, log_dir=str(tmp_path)) as api,
        StreamRunner.for_stack(fresh_stack) as runner,
    ):
        # A task created over HTTP reaches bronze on its own (no drain), within seconds.
        first = ApiUser(api.url, fresh_stack, "first@example.com")
        first_user = first.call("GET", "/api/v1/users/me")[1]["user_id"]
        status, task = first.call("POST", "/api/v1/tasks", {"title": "curl me"})
        assert status == 201, task
        wait_for(
            lambda: bronze_events(fresh_stack),
            until=lambda events: any(
                e.keys.get("SK", "").endswith(task["task_id"]) for e in events
            ),
            timeout=30,
            what="the background runner to deliver the created task to bronze",
        )

        expected = run_api_workload(api.url, fresh_stack, users=3, tasks_per_user=3, seed=5)
        runner.drain(60)
        stats = runner.stats

    events = [e for e in bronze_events(fresh_stack) if e.user_id != first_user]
    assert stats.failures == 0
    assert runner.on_failure == []

    # One event per change: counts by entity and event type are what the API did.
    assert len({e.dedup_key for e in events}) == len(events)
    counts = Counter((e.entity_type, e.event_name) for e in events)
    assert {k: v for k, v in counts.items() if k[0] == "task"} == {
        k: v for k, v in expected.counts.items() if k[0] == "task"
    }
    assert counts[("user", "INSERT")] == expected.counts[("user", "INSERT")]
    # Nothing else: every bronze event is a domain change of the stream, and vice versa.
    everything = {e.dedup_key for e in bronze_events(fresh_stack)}
    assert everything == set(stream_domain_changes(fresh_stack))

    # Per task, by sequence number: the versions the API answered, in order.
    by_item: Dict[Tuple[str, str], List[ChangeEvent]] = defaultdict(list)
    for event in events:
        by_item[(event.keys[keys.PK], event.keys[keys.SK])].append(event)
    table = _table(fresh_stack)
    for item, changes in by_item.items():
        changes.sort(key=lambda e: int(e.sequence_number))
        if changes[0].entity_type == "task":
            observed = [
                (e.event_name, e.new_image["version"] if e.new_image else None) for e in changes
            ]
            assert observed == expected.changes[item], item
        for before, after in zip(changes, changes[1:]):
            assert after.old_image == before.new_image
        last = changes[-1]
        if last.event_name == "REMOVE":
            assert item not in table
        else:
            assert last.new_image == domain_image(plain_image(table[item])), item
