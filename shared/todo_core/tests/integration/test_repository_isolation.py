"""One user's queries never return, change or reveal another user's tasks."""

from __future__ import annotations

import datetime as dt
from typing import Dict, List

import pytest

from todo_core.errors import InvalidCursor, TaskNotFound
from todo_core.models import Task, TaskPriority, TaskStatus
from todo_core.repository import TaskFilter, TodoRepository

# Ids chosen to collide if key components were not escaped: a user id that
# looks like another user's index partition, separators, the escape character.
TRICKY_USERS = [
    "alice",
    "alice#STATUS#pending",
    "alice%23STATUS%23pending",
    "alice#",
    "ali",
    "alice#CATEGORY#work",
    "TASK#alice",
    "ÄLICE ✓",
]

FILTERS = [
    TaskFilter(),
    TaskFilter(status=TaskStatus.PENDING),
    TaskFilter(priority=TaskPriority.HIGH),
    TaskFilter(category="work"),
    TaskFilter(due_after=dt.date(2030, 1, 1)),
    TaskFilter(status=TaskStatus.PENDING, category="work"),
    TaskFilter(category="work", priority=TaskPriority.HIGH),
    TaskFilter(status=TaskStatus.PENDING, due_before=dt.date(2030, 12, 31)),
]


@pytest.fixture(scope="module")
def owned(ddb: object, table_name: str) -> Dict[str, List[str]]:
    """Every tricky user gets the same kinds of tasks (same status, priority,
    category and due date), so every filter matches tasks of every user."""
    from todo_core.cursor import CursorCodec

    repo = TodoRepository(ddb, table_name, CursorCodec(b"k" * 32))
    suffix = dt.datetime.now().strftime("%H%M%S%f")
    result: Dict[str, List[str]] = {}
    for base in TRICKY_USERS:
        user = f"{base}-{suffix}" if not base.endswith("#") else base + suffix + "#"
        result[user] = [
            repo.create_task(
                Task.new(
                    user,
                    {
                        "title": f"{base} {i}",
                        "status": "pending",
                        "priority": "high",
                        "category": "work",
                        "due_date": dt.date(2030, 6, 1 + i),
                    },
                )
            ).task_id
            for i in range(3)
        ]
    return result


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.fingerprint())
def test_lists_hold_only_the_callers_tasks(
    repo: TodoRepository, owned: Dict[str, List[str]], f: TaskFilter
) -> None:
    for user, task_ids in owned.items():
        page = repo.list_tasks(user, f, limit=100)
        assert {t.user_id for t in page.items} <= {user}
        assert sorted(t.task_id for t in page.items) == sorted(task_ids)


def test_another_users_task_is_not_found_and_untouched(
    repo: TodoRepository, owned: Dict[str, List[str]]
) -> None:
    alice, mallory = list(owned)[:2]
    victim = owned[alice][0]
    with pytest.raises(TaskNotFound):
        repo.get_task(mallory, victim)
    with pytest.raises(TaskNotFound):
        repo.update_task(mallory, victim, {"title": "pwned"})
    with pytest.raises(TaskNotFound):
        repo.delete_task(mallory, victim)
    task = repo.get_task(alice, victim, consistent=True)
    assert (task.version, task.user_id) == (1, alice)


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.fingerprint())
def test_a_cursor_of_one_user_is_rejected_for_another(
    repo: TodoRepository, owned: Dict[str, List[str]], f: TaskFilter
) -> None:
    users = list(owned)
    for owner, thief in zip(users, users[1:] + users[:1]):
        cursor = repo.list_tasks(owner, f, limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(InvalidCursor):
            repo.list_tasks(thief, f, limit=1, cursor=cursor)
        # ...while the owner can continue with it.
        assert repo.list_tasks(owner, f, limit=1, cursor=cursor).items


def test_a_cursor_signed_with_another_secret_is_rejected(
    repo: TodoRepository, owned: Dict[str, List[str]], ddb: object, table_name: str
) -> None:
    from todo_core.cursor import CursorCodec

    user = next(iter(owned))
    other = TodoRepository(ddb, table_name, CursorCodec(b"another-deployment-secret-000000"))
    cursor = other.list_tasks(user, limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        repo.list_tasks(user, limit=1, cursor=cursor)
