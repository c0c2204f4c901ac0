"""Scripted workloads for the integration tests, with their ground truth.

Every step is applied to the repository (as the API would) AND to a plain
in-memory account of what the step means. The expected KPIs come from that
account only (never from the counters), so a counter bug cannot hide itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Set

from todo_core.models import Task
from todo_core.repository import TodoRepository


@dataclass
class Clock:
    """The repository's clock, moved by the script to write "in the past"."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class GroundTruth:
    profiles: Set[str] = field(default_factory=set)
    #: task name -> (owner, status) for tasks that exist (deleted ones are removed).
    tasks: Dict[str, tuple] = field(default_factory=dict)
    last_write: Dict[str, dt.datetime] = field(default_factory=dict)

    def wrote(self, user: str, at: dt.datetime) -> None:
        self.last_write[user] = max(at, self.last_write.get(user, at))

    def expected(self, now: dt.datetime) -> Dict[str, Optional[float]]:
        total_users = len(self.profiles)
        active = sum(1 for at in self.last_write.values() if now - dt.timedelta(hours=24) <= at)
        total = len(self.tasks)
        completed = sum(1 for _, status in self.tasks.values() if status == "completed")
        return {
            "TotalUsers": total_users,
            "ActiveUsers": active,
            "TotalTasks": total,
            "CompletedTasks": completed,
            "CompletionRate": 100.0 * completed / total if total else None,
            "AvgTasksPerUser": total / total_users if total_users else None,
        }


class Workload:
    """Drives a TodoRepository through named steps at times relative to ``run_at``."""

    def __init__(self, repo_factory: Any, run_at: dt.datetime) -> None:
        self.run_at = run_at
        self.clock = Clock(run_at)
        self.repo: TodoRepository = repo_factory(self.clock)
        self.truth = GroundTruth()
        self.ids: Dict[str, tuple] = {}

    def _at(self, hours_ago: float) -> dt.datetime:
        self.clock.now = self.run_at - dt.timedelta(hours=hours_ago)
        return self.clock.now

    def seen(self, user: str, hours_ago: float = 0) -> None:
        self._at(hours_ago)
        self.repo.record_user_seen(user, email=f"{user}@example.com")
        self.truth.profiles.add(user)

    def create(self, user: str, name: str, status: str = "pending", hours_ago: float = 0) -> None:
        at = self._at(hours_ago)
        task = self.repo.create_task(
            Task.new(user, {"title": f"task {name}", "status": status}, now=at)
        )
        self.ids[name] = (user, task.task_id)
        self.truth.tasks[name] = (user, status)
        self.truth.wrote(user, at)

    def update(self, name: str, hours_ago: float = 0, **changes: Any) -> None:
        at = self._at(hours_ago)
        user, task_id = self.ids[name]
        self.repo.update_task(user, task_id, changes)
        if "status" in changes:
            self.truth.tasks[name] = (user, changes["status"])
        self.truth.wrote(user, at)

    def delete(self, name: str, hours_ago: float = 0) -> None:
        at = self._at(hours_ago)
        user, task_id = self.ids[name]
        self.repo.delete_task(user, task_id)
        del self.truth.tasks[name]
        self.truth.wrote(user, at)


def run_script(workload: Workload) -> None:
    """Seven users, three of them active in the last 24 hours.

    Covers: completions, a reopening (completed -> pending), a cancelled task,
    deletes of pending and of completed tasks, a task created completed, a user
    with a profile but no task, and users whose last write is 25-60 hours old
    (one inside yesterday's activity partition, one older than both).
    """
    w = workload
    # alice: active now; complete, reopen, cancel, delete.
    w.seen("alice", 2)
    for name in ("a1", "a2", "a3", "a4"):
        w.create("alice", name, hours_ago=2)
    w.update("a1", 1.5, status="completed")
    w.update("a2", 1.5, status="completed")
    w.update("a2", 1, status="pending")  # reopened
    w.update("a3", 1, status="cancelled")
    w.update("a1", 0.5, title="renamed, still completed")
    w.delete("a4", 0.5)
    # bob: old tasks, one completed 23 hours ago -> active.
    w.seen("bob", 30)
    w.create("bob", "b1", status="completed", hours_ago=30)
    w.create("bob", "b2", hours_ago=30)
    w.update("b2", 23, status="in_progress")
    w.update("b2", 23, status="completed")
    # carol: last write 30 hours ago -> inactive.
    w.seen("carol", 40)
    w.create("carol", "c1", hours_ago=40)
    w.create("carol", "c2", hours_ago=40)
    w.update("c1", 30, status="completed")
    # dave: last write 60 hours ago -> inactive.
    w.seen("dave", 60)
    w.create("dave", "d1", hours_ago=60)
    # erin: signed in, never wrote a task -> a user, not active.
    w.seen("erin", 0.2)
    # frank: deletes a completed task 3 hours ago -> active; the delete counts nowhere else.
    w.seen("frank", 50)
    w.create("frank", "f1", status="completed", hours_ago=50)
    w.create("frank", "f2", hours_ago=50)
    w.delete("f1", 3)
    # gina: created, completed and deleted a task 26-28 hours ago -> inactive, no tasks.
    w.seen("gina", 28)
    w.create("gina", "g1", hours_ago=28)
    w.update("g1", 27, status="completed")
    w.delete("g1", 26)


#: What run_script must produce, worked out by hand (checks the ground-truth code itself).
SCRIPT_EXPECTED = {
    "TotalUsers": 7,
    "ActiveUsers": 3,  # alice, bob, frank
    "TotalTasks": 9,  # a1 a2 a3 b1 b2 c1 c2 d1 f2
    "CompletedTasks": 4,  # a1 b1 b2 c1
    "CompletionRate": 400 / 9,
    "AvgTasksPerUser": 9 / 7,
}
