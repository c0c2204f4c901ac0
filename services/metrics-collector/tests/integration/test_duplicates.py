"""Repeated, concurrent and retried inputs do not change the numbers."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import Any, Dict

import pytest
from kpi_stream import apply_stream
from tests.readback import read_published
from workload import Workload, run_script

from metrics_collector import collector
from metrics_collector.settings import Settings
from todo_core.errors import TaskNotFound, VersionConflict
from todo_core.models import TaskStatus, utc_now
from todo_core.repository import LAST_SEEN_RESOLUTION, TaskFilter

pytestmark = pytest.mark.integration


def publish(table: str, stage: str, dynamodb: Any, cloudwatch: Any) -> Dict[str, float]:
    apply_stream(dynamodb, table)  # the KPI aggregator catches up first
    settings = Settings(stage=stage, table_name=table)
    return collector.run(settings, dynamodb, cloudwatch).publishable()


def test_repeated_sign_ins_count_one_user(
    repo_factory: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any
) -> None:
    workload = Workload(repo_factory, run_at=utc_now())
    start = workload.run_at - dt.timedelta(hours=1)
    for i in range(6):
        # Both paths: within the last-seen resolution (no write) and past it (an update).
        workload.clock.now = start + i * (LAST_SEEN_RESOLUTION / 2 + dt.timedelta(seconds=1))
        workload.repo.record_user_seen("same-user", email="same@example.com")

    assert publish(table, stage, dynamodb, cloudwatch)["TotalUsers"] == 1
    assert workload.repo.get_user("same-user").last_seen_at > start


def test_concurrent_first_sight_counts_one_user(
    repo_factory: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any, local_stack: Any
) -> None:
    """Two requests see a new user at once: both find no profile, both try to create it.

    The race is forced deterministically: request A has already found no
    profile when request B creates it (hook before A's conditional put). The
    threaded test below lets the scheduler pick the interleavings instead.
    """
    request_a = repo_factory(utc_now, client=local_stack.client("dynamodb"))
    request_b = repo_factory(utc_now, client=local_stack.client("dynamodb"))
    raced = []

    def b_gets_there_first(**_: Any) -> None:
        if not raced:
            raced.append(True)
            request_b.record_user_seen("newcomer", email="b@example.com")

    events = request_a.client.meta.events
    events.register("before-call.dynamodb.PutItem", b_gets_there_first)
    try:
        request_a.record_user_seen("newcomer", email="a@example.com")
    finally:
        events.unregister("before-call.dynamodb.PutItem", b_gets_there_first)

    assert raced == [True]
    assert request_a.get_user("newcomer").email == "b@example.com"  # B created it, A did not
    assert publish(table, stage, dynamodb, cloudwatch)["TotalUsers"] == 1


def test_first_sight_from_many_threads_counts_one_user(
    repo_factory: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any, local_stack: Any
) -> None:
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    errors: list = []

    def first_request(index: int) -> None:
        # A client per thread: as many Lambda containers seeing a new user at once.
        repo = repo_factory(utc_now, client=local_stack.client("dynamodb"))
        barrier.wait()
        try:
            repo.record_user_seen("crowd", email=f"c{index}@example.com")
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_request, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert publish(table, stage, dynamodb, cloudwatch)["TotalUsers"] == 1


def test_a_retried_update_that_hit_a_version_conflict_counts_once(
    repo_factory: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any, local_stack: Any
) -> None:
    workload = Workload(repo_factory, run_at=utc_now())
    workload.seen("u")
    workload.create("u", "t")
    user, task_id = workload.ids["t"]
    other_writer = repo_factory(utc_now, client=local_stack.client("dynamodb"))

    # 1. A stale If-Match is refused and writes nothing.
    with pytest.raises(VersionConflict):
        workload.repo.update_task(user, task_id, {"status": "completed"}, expected_version=7)
    assert publish(table, stage, dynamodb, cloudwatch)["CompletedTasks"] == 0

    # 2. Without If-Match, another writer completes the task between our read and
    #    our write: our conditional write fails its version check and is retried on the
    #    new version. The task is completed once, and counted once.
    client = workload.repo.client
    interfered = []

    def complete_first(**_: Any) -> None:
        if not interfered:
            interfered.append(True)
            other_writer.update_task(user, task_id, {"status": "completed"})

    client.meta.events.register("before-call.dynamodb.PutItem", complete_first)
    try:
        updated = workload.repo.update_task(user, task_id, {"status": "completed", "title": "x"})
    finally:
        client.meta.events.unregister("before-call.dynamodb.PutItem", complete_first)

    assert interfered == [True]
    assert updated.version == 3  # 1 -> 2 (other writer) -> 3 (retry), nothing lost
    assert updated.status is TaskStatus.COMPLETED
    values = publish(table, stage, dynamodb, cloudwatch)
    assert (values["TotalTasks"], values["CompletedTasks"], values["CompletionRate"]) == (1, 1, 100)


def test_replayed_reads_and_repeated_runs_change_nothing(
    repo_factory: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any
) -> None:
    workload = Workload(repo_factory, run_at=utc_now())
    run_script(workload)
    first = publish(table, stage, dynamodb, cloudwatch)

    # Every read the API serves, twice over: gets and lists of every user's tasks.
    for _ in range(2):
        for user, task_id in workload.ids.values():
            # Deleted tasks are "not found": reading them changes nothing either.
            with contextlib.suppress(TaskNotFound):
                workload.repo.get_task(user, task_id)
        for user in {user for user, _ in workload.ids.values()}:
            workload.repo.list_tasks(user, TaskFilter(status=TaskStatus.COMPLETED))
            workload.repo.list_tasks(user)
            workload.repo.get_user(user)
        workload.repo.read_kpis()
    second = publish(table, stage, dynamodb, cloudwatch)
    third = publish(table, stage, dynamodb, cloudwatch)

    assert first == second == third
    assert read_published(cloudwatch, stage=stage) == pytest.approx(first)
