"""The KPI counters are exact after any mix of writes, and cheap to read.

The repository writes only the users' own items; the counts follow from the
table's stream, applied by the KPI ledger (as the KPI aggregator does).
The counters are global to the table, which other tests write to as well:
totals are checked as deltas. Activity markers are per day, so the workload
runs with a clock in a year no other test uses and active users are checked
absolutely.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from support import FakeClock, apply_stream_to_kpis

from todo_core import keys
from todo_core.cursor import CursorCodec
from todo_core.models import Task
from todo_core.repository import KpiCounts, TodoRepository

START = dt.datetime(2041, 3, 10, 9, 0, tzinfo=dt.timezone.utc)


def delta(after: KpiCounts, before: KpiCounts) -> KpiCounts:
    return KpiCounts(
        total_users=after.total_users - before.total_users,
        active_users=after.active_users,
        total_tasks=after.total_tasks - before.total_tasks,
        completed_tasks=after.completed_tasks - before.completed_tasks,
    )


def test_counts_are_exact_after_a_scripted_workload(
    ddb: Any, table_name: str, logged_repo: Any, local_stack: Any
) -> None:
    clock = FakeClock(START)
    repo = TodoRepository(ddb, table_name, CursorCodec(b"k" * 32), clock=clock)
    suffix = START.strftime("%f") + str(id(clock))
    users = [f"kpi-{n}-{suffix}" for n in range(4)]
    apply_stream_to_kpis(local_stack, ddb, table_name)
    before = repo.read_kpis(now=START)
    assert before.active_users == 0

    # Users seen repeatedly (and concurrently with their writes) count once.
    for _ in range(3):
        for user in users:
            repo.record_user_seen(user, f"{user}@example.com")
        clock.advance(minutes=7)

    def create(user: str, **fields: Any) -> Task:
        return repo.create_task(Task.new(user, {"title": "t", **fields}, now=clock()))

    a = [create(users[0]) for _ in range(4)]  # 4 open
    b = [create(users[1], status="completed") for _ in range(3)]  # 3 done at birth
    c = [create(users[2]) for _ in range(2)]
    # users[3] is seen but never writes: a user, not an active one.

    repo.update_task(users[0], a[0].task_id, {"status": "completed"})  # +1 done
    repo.update_task(users[0], a[0].task_id, {"title": "still done"})  # no change
    repo.update_task(users[0], a[1].task_id, {"status": "completed"})  # +1 done
    repo.update_task(users[0], a[1].task_id, {"status": "pending"})  # reopened: -1
    repo.update_task(users[1], b[0].task_id, {"status": "cancelled"})  # -1 done
    repo.delete_task(users[1], b[1].task_id)  # a completed task deleted: -1 task, -1 done
    repo.delete_task(users[2], c[0].task_id)  # an open task deleted: -1 task
    repo.update_task(users[2], c[1].task_id, {"status": "in_progress"})

    now = clock()
    # Writes carry no counters: nothing moves until the stream is applied.
    assert delta(repo.read_kpis(now=now), before).total_tasks == 0
    apply_stream_to_kpis(local_stack, ddb, table_name)
    got = delta(repo.read_kpis(now=now), before)
    assert got == KpiCounts(
        total_users=4,
        active_users=3,
        total_tasks=4 + 3 + 2 - 2,
        completed_tasks=(1 + 0) + (3 - 1 - 1) + 0,
    )

    # Activity is a sliding 24-hour window: a day later without writes, nobody
    # is active; totals do not move.
    later = repo.read_kpis(now=now + dt.timedelta(hours=25))
    assert later.active_users == 0
    assert (later.total_tasks, later.completed_tasks, later.total_users) == (
        repo.read_kpis(now=now).total_tasks,
        repo.read_kpis(now=now).completed_tasks,
        repo.read_kpis(now=now).total_users,
    )

    # Applying the stream again (a new mapping from the stream's start)
    # counts nothing twice: the per-shard checkpoints hold.
    apply_stream_to_kpis(local_stack, ddb, table_name)
    assert delta(repo.read_kpis(now=now), before) == got

    # Reading the KPIs costs the same whatever the table holds: one query of
    # the counter items (one per stream shard) and one per activity shard and day.
    client_repo, log = logged_repo
    client_repo.read_kpis(now=now)
    assert "Scan" not in log.operations
    assert log.operations == ["Query"] * (1 + 2 * keys.ACTIVITY_SHARDS)


def test_activity_just_inside_and_outside_the_window(
    ddb: Any, table_name: str, local_stack: Any
) -> None:
    clock = FakeClock(START + dt.timedelta(days=40))
    repo = TodoRepository(ddb, table_name, CursorCodec(b"k" * 32), clock=clock)
    user = f"window-{id(clock)}"
    task = Task.new(user, {"title": "t"}, now=clock())
    repo.create_task(task)
    written = clock()
    apply_stream_to_kpis(local_stack, ddb, table_name)
    assert repo.read_kpis(now=written + dt.timedelta(hours=23, minutes=59)).active_users == 1
    assert repo.read_kpis(now=written + dt.timedelta(hours=24, seconds=1)).active_users == 0
