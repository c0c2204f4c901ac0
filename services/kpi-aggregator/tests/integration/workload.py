"""A scripted workload through the repository (as the API writes), with its ground truth."""

from __future__ import annotations

from typing import Dict, Tuple

from todo_core.models import Task
from todo_core.ports import KpiCounts
from todo_core.repository import TodoRepository


def run_workload(repo: TodoRepository, tag: str) -> KpiCounts:
    """Writes a mix of every kind of change; returns the counts it must leave."""
    users = [f"{tag}-{n}" for n in range(5)]
    for user in users:
        repo.record_user_seen(user, f"{user}@example.com")
    tasks: Dict[Tuple[str, int], Task] = {}
    for u, user in enumerate(users[:4]):
        for n in range(3):
            status = "completed" if (u + n) % 3 == 0 else "pending"
            tasks[(user, n)] = repo.create_task(
                Task.new(user, {"title": f"t{n}", "status": status})
            )
    a, b, c = users[:3]
    repo.update_task(a, tasks[(a, 1)].task_id, {"status": "completed"})  # +1 done
    repo.update_task(a, tasks[(a, 1)].task_id, {"title": "renamed"})  # nothing
    repo.update_task(b, tasks[(b, 2)].task_id, {"status": "cancelled"})  # -1 done
    repo.delete_task(c, tasks[(c, 1)].task_id)  # a completed one: -1, -1
    repo.delete_task(c, tasks[(c, 0)].task_id)  # an open one: -1
    # 12 tasks created, 4 completed at birth ((u + n) % 3 == 0).
    return KpiCounts(
        total_users=5,
        active_users=4,
        total_tasks=12 - 2,
        completed_tasks=4 + 1 - 1 - 1,
    )
