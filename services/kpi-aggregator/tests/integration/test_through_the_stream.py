"""The aggregator keeps the KPIs exact through everything a mapping does.

Each test writes through the repository (as the API does) into a table of
its own, then lets the local event source mapping run the real handler over
the table's stream, sometimes through a wrapper that misbehaves the way
Lambda and the network do. The expected counts come from the script.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List

from workload import run_workload

from kpi_aggregator import handler
from todo_core import keys


def test_the_stream_gives_the_scripts_counts(table: Any) -> None:
    repo = table.repository()
    expected = run_workload(repo, "plain")
    with table.mapping() as mapping:
        mapping.drain()
    assert repo.read_kpis() == expected
    assert mapping.stats.failures == 0


def test_every_batch_delivered_twice_counts_once(table: Any) -> None:
    """At-least-once delivery: the same batch handled again changes nothing."""
    repo = table.repository()
    expected = run_workload(repo, "twice")

    def twice(event: Dict[str, Any], context: Any) -> Any:
        handler.lambda_handler(copy.deepcopy(event), context)
        return handler.lambda_handler(event, context)

    with table.mapping(twice, batch_size=4) as mapping:
        mapping.drain()
    assert repo.read_kpis() == expected


def test_a_crash_after_the_commit_before_the_acknowledgement_counts_once(table: Any) -> None:
    """The transaction committed, the invocation then died (a timeout, an
    out-of-memory): the mapping re-delivers, bisecting; the checkpoint in the
    table already holds the batch, so nothing is counted twice."""
    repo = table.repository()
    expected = run_workload(repo, "crash")
    crashed: List[int] = []

    def crash_after_commit(event: Dict[str, Any], context: Any) -> Any:
        response = handler.lambda_handler(event, context)
        if len(crashed) < 3:
            crashed.append(len(event["Records"]))
            raise TimeoutError("the invocation died after its transaction committed")
        return response

    with table.mapping(crash_after_commit, batch_size=10, max_retries=5) as mapping:
        mapping.drain()
    assert crashed
    assert mapping.stats.function_errors == 3
    assert not mapping.on_failure
    assert repo.read_kpis() == expected


def test_a_poison_record_is_parked_and_everything_else_counts(table: Any) -> None:
    """An unreadable record fails its batch after the changes before it are
    applied; the mapping bisects down to it, parks it alone in the on-failure
    destination, and goes on with the records after it."""
    repo = table.repository()
    user = "poison-user"
    repo.record_user_seen(user)
    from todo_core.models import Task

    for n in range(5):
        repo.create_task(Task.new(user, {"title": f"t{n}"}))
    poisoned: List[str] = []

    def with_a_poison_record(event: Dict[str, Any], context: Any) -> Any:
        for record in event["Records"]:
            is_task = record["dynamodb"]["Keys"]["SK"]["S"].startswith(keys.TASK_PREFIX)
            sequence = record["dynamodb"]["SequenceNumber"]
            if is_task and (not poisoned or poisoned[0] == sequence):
                poisoned[:1] = [sequence]
                record["dynamodb"]["NewImage"]["updated_at"] = {"S": "not a time"}
        return handler.lambda_handler(event, context)

    with table.mapping(with_a_poison_record, batch_size=4, max_retries=2) as mapping:
        mapping.drain()
    assert [b.sequence_numbers for b in mapping.on_failure] == [poisoned]
    counts = repo.read_kpis()
    # The parked create is the one change not counted; its owner is still active
    # (the other creates) and the profile counts.
    assert (counts.total_users, counts.total_tasks, counts.active_users) == (1, 4, 1)


def test_without_a_tumbling_window_the_event_names_no_shard_and_nothing_is_counted(
    table: Any,
) -> None:
    repo = table.repository()
    run_workload(repo, "nowindow")
    with table.mapping(tumbling_window=0, max_retries=0, bisect_on_error=False) as mapping:
        mapping.drain()
    assert mapping.on_failure
    assert "shardId" in mapping.on_failure[0].reason
    assert repo.read_kpis().total_tasks == 0
