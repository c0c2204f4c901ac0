"""Concurrent writers: optimistic locking holds and no write is ever lost.

The emulator applies each request atomically, as DynamoDB does (see
todo_local.moto_server), so these races are real: threads interleave their
read-modify-write cycles over HTTP.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List

from todo_core.errors import StoreUnavailable, VersionConflict
from todo_core.models import Task
from todo_core.repository import TodoRepository

UPDATES_PER_WRITER = 15


def run_threads(targets: List[Callable[[], None]]) -> None:
    errors: List[BaseException] = []

    def guard(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_racing_partial_updates_lose_nothing(repo: TodoRepository, user_id: str) -> None:
    task = repo.create_task(Task.new(user_id, {"title": "start", "description": "start"}))
    fields = ["title", "description", "category"]
    applied: Dict[str, List[str]] = {f: [] for f in fields}
    gave_up: List[str] = []
    start = threading.Barrier(len(fields))

    def writer(field: str) -> Callable[[], None]:
        def run() -> None:
            start.wait()
            for i in range(UPDATES_PER_WRITER):
                value = f"{field}-{i}"
                try:
                    repo.update_task(user_id, task.task_id, {field: value})
                    applied[field].append(value)
                except StoreUnavailable:  # too much contention: reported, not lost
                    gave_up.append(value)

        return run

    run_threads([writer(f) for f in fields])

    final = repo.get_task(user_id, task.task_id, consistent=True)
    successes = sum(len(v) for v in applied.values())
    assert successes + len(gave_up) == len(fields) * UPDATES_PER_WRITER
    assert successes >= UPDATES_PER_WRITER  # contention slows writers, never stops them all
    # Every acknowledged update produced exactly one version...
    assert final.version == 1 + successes
    # ...and each field holds the last value acknowledged to its writer.
    assert final.title == applied["title"][-1]
    assert final.description == applied["description"][-1]
    assert final.category == applied["category"][-1]


def test_with_if_match_exactly_one_racer_wins(repo: TodoRepository, user_id: str) -> None:
    task = repo.create_task(Task.new(user_id, {"title": "start"}))
    racers = 4
    start = threading.Barrier(racers)
    outcomes: Dict[int, Any] = {}

    def racer(n: int) -> Callable[[], None]:
        def run() -> None:
            start.wait()
            try:
                outcomes[n] = repo.update_task(
                    user_id, task.task_id, {"title": f"racer {n}"}, expected_version=1
                )
            except VersionConflict as exc:
                outcomes[n] = exc

        return run

    run_threads([racer(n) for n in range(racers)])

    winners = [n for n, o in outcomes.items() if isinstance(o, Task)]
    assert len(winners) == 1
    assert sum(isinstance(o, VersionConflict) for o in outcomes.values()) == racers - 1
    final = repo.get_task(user_id, task.task_id, consistent=True)
    assert (final.version, final.title) == (2, f"racer {winners[0]}")


def test_concurrent_deletes_delete_once(
    repo: TodoRepository, user_id: str, settle_kpis: Callable[[], None]
) -> None:
    from todo_core.errors import TaskNotFound

    task = repo.create_task(Task.new(user_id, {"title": "doomed"}))
    settle_kpis()
    before = repo.read_kpis()
    start = threading.Barrier(3)
    results: List[str] = []

    def deleter() -> None:
        start.wait()
        try:
            repo.delete_task(user_id, task.task_id)
            results.append("deleted")
        except TaskNotFound:
            results.append("not found")

    run_threads([deleter, deleter, deleter])
    assert sorted(results) == ["deleted", "not found", "not found"]
    settle_kpis()
    assert repo.read_kpis().total_tasks == before.total_tasks - 1


def test_first_requests_in_parallel_create_the_user_once(
    repo: TodoRepository, user_id: str, settle_kpis: Callable[[], None]
) -> None:
    settle_kpis()
    before = repo.read_kpis().total_users
    start = threading.Barrier(4)

    def first_request() -> None:
        start.wait()
        repo.record_user_seen(user_id, "racer@example.com")

    run_threads([first_request] * 4)
    settle_kpis()
    assert repo.read_kpis().total_users == before + 1
    assert repo.get_user(user_id).email == "racer@example.com"
