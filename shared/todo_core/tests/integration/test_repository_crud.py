"""Create, read, update, delete against the emulator; users; stored item shape."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import pytest
from support import FakeClock

from todo_core import keys
from todo_core.errors import TaskNotFound, UserNotFound, VersionConflict
from todo_core.models import Task, TaskPriority, TaskStatus
from todo_core.repository import LAST_SEEN_RESOLUTION, TaskFilter, TodoRepository


def new_task(user_id: str, clock: FakeClock, **fields: Any) -> Task:
    return Task.new(user_id, {"title": "Test Task", **fields}, now=clock())


def raw_item(ddb: Any, table_name: str, user_id: str, task_id: str) -> Any:
    return ddb.get_item(
        TableName=table_name, Key={k: {"S": v} for k, v in keys.task_key(user_id, task_id).items()}
    ).get("Item")


def test_create_then_get_returns_the_same_task(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = new_task(
        user_id,
        clock,
        description="This is a test task created via API",
        priority="high",
        category=" Testing ",
        due_date=dt.date(2030, 5, 17),
    )
    assert repo.create_task(task) == task
    stored = repo.get_task(user_id, task.task_id)
    assert stored == task
    assert stored.category == "testing"
    assert repo.get_task(user_id, task.task_id, consistent=True) == task


def test_stored_item_carries_exactly_the_index_attributes_it_needs(
    repo: TodoRepository, ddb: Any, table_name: str, user_id: str, clock: FakeClock
) -> None:
    full = repo.create_task(new_task(user_id, clock, category="work", due_date=dt.date(2030, 1, 2)))
    bare = repo.create_task(new_task(user_id, clock))
    full_item = raw_item(ddb, table_name, user_id, full.task_id)
    bare_item = raw_item(ddb, table_name, user_id, bare.task_id)
    index_attributes = {a for i in keys.GLOBAL_INDEXES for a in (i.pk, i.sk)}
    assert index_attributes <= set(full_item)
    assert {keys.BY_CATEGORY.pk, keys.BY_DUE_DATE.pk} & set(bare_item) == set()
    assert full_item["version"] == {"N": "1"}
    assert full_item["entity_type"] == {"S": "task"}
    assert "completed_at" not in full_item


def test_get_unknown_task_is_not_found(repo: TodoRepository, user_id: str) -> None:
    with pytest.raises(TaskNotFound):
        repo.get_task(user_id, "no-such-task")


def test_creating_an_existing_id_is_a_conflict_and_changes_nothing(
    repo: TodoRepository, user_id: str, clock: FakeClock, settle_kpis: Callable[[], None]
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    settle_kpis()
    before = repo.read_kpis()
    impostor = Task.new(user_id, {"title": "Other"}, now=clock(), task_id=task.task_id)
    with pytest.raises(VersionConflict):
        repo.create_task(impostor)
    assert repo.get_task(user_id, task.task_id).title == "Test Task"
    settle_kpis()
    assert repo.read_kpis().total_tasks == before.total_tasks


def test_create_refuses_a_task_that_is_not_new(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = new_task(user_id, clock).apply({"title": "v2"}, now=clock())
    with pytest.raises(ValueError, match="version 1"):
        repo.create_task(task)


def test_partial_update_bumps_version_and_keeps_other_fields(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock, description="keep me", priority="low"))
    later = clock.advance(minutes=3)
    updated = repo.update_task(user_id, task.task_id, {"title": "Renamed", "priority": "urgent"})
    assert (updated.title, updated.priority, updated.description) == (
        "Renamed",
        TaskPriority.URGENT,
        "keep me",
    )
    assert updated.version == 2
    assert updated.updated_at == later
    assert updated.created_at == task.created_at
    assert repo.get_task(user_id, task.task_id, consistent=True) == updated


def test_update_with_current_expected_version_succeeds(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    v2 = repo.update_task(user_id, task.task_id, {"title": "v2"}, expected_version=1)
    v3 = repo.update_task(user_id, task.task_id, {"title": "v3"}, expected_version=2)
    assert (v2.version, v3.version, v3.title) == (2, 3, "v3")


def test_stale_expected_version_is_a_conflict_and_changes_nothing(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    repo.update_task(user_id, task.task_id, {"title": "someone else's edit"})
    with pytest.raises(VersionConflict) as caught:
        repo.update_task(user_id, task.task_id, {"title": "mine"}, expected_version=1)
    assert (caught.value.expected, caught.value.current) == (1, 2)
    stored = repo.get_task(user_id, task.task_id, consistent=True)
    assert (stored.title, stored.version) == ("someone else's edit", 2)


def test_invalid_update_writes_nothing(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    for changes, message in (
        ({"title": "   "}, "title"),
        ({"version": 7}, "cannot be changed"),
        ({"status": "archived"}, "archived"),
        ({"owner": "x"}, "owner"),
    ):
        with pytest.raises(ValueError, match=message):
            repo.update_task(user_id, task.task_id, changes)
    assert repo.get_task(user_id, task.task_id, consistent=True) == task


def test_update_unknown_task_is_not_found(repo: TodoRepository, user_id: str) -> None:
    with pytest.raises(TaskNotFound):
        repo.update_task(user_id, "missing", {"title": "x"})
    with pytest.raises(TaskNotFound):
        repo.delete_task(user_id, "missing")


def test_completing_and_reopening_moves_completed_at_and_status_index(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    done_at = clock.advance(minutes=1)
    done = repo.update_task(user_id, task.task_id, {"status": "completed"})
    assert done.completed_at == done_at
    completed = TaskFilter(status=TaskStatus.COMPLETED)
    assert [t.task_id for t in repo.list_tasks(user_id, completed).items] == [task.task_id]
    clock.advance(minutes=1)
    reopened = repo.update_task(user_id, task.task_id, {"status": "in_progress"})
    assert reopened.completed_at is None
    assert repo.list_tasks(user_id, completed).items == []
    in_progress = repo.list_tasks(user_id, TaskFilter(status=TaskStatus.IN_PROGRESS)).items
    assert [t.task_id for t in in_progress] == [task.task_id]


def test_clearing_due_date_and_category_removes_the_task_from_those_indexes(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock, category="work", due_date=dt.date(2030, 3, 1)))
    due = TaskFilter(due_before=dt.date(2030, 12, 31))
    work = TaskFilter(category="work")
    assert len(repo.list_tasks(user_id, due).items) == 1
    assert len(repo.list_tasks(user_id, work).items) == 1
    repo.update_task(user_id, task.task_id, {"due_date": None, "category": None})
    assert repo.list_tasks(user_id, due).items == []
    assert repo.list_tasks(user_id, work).items == []
    assert len(repo.list_tasks(user_id).items) == 1


def test_delete_returns_the_task_and_removes_it(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    assert repo.delete_task(user_id, task.task_id) == task
    with pytest.raises(TaskNotFound):
        repo.get_task(user_id, task.task_id, consistent=True)
    with pytest.raises(TaskNotFound):
        repo.delete_task(user_id, task.task_id)
    assert repo.list_tasks(user_id).items == []


def test_delete_with_stale_version_is_a_conflict_and_keeps_the_task(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    task = repo.create_task(new_task(user_id, clock))
    repo.update_task(user_id, task.task_id, {"title": "v2"})
    with pytest.raises(VersionConflict):
        repo.delete_task(user_id, task.task_id, expected_version=1)
    assert repo.get_task(user_id, task.task_id, consistent=True).version == 2
    assert repo.delete_task(user_id, task.task_id, expected_version=2).version == 2


# --- users -------------------------------------------------------------------------------


def test_first_sight_creates_the_profile(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    with pytest.raises(UserNotFound):
        repo.get_user(user_id)
    repo.record_user_seen(user_id, "testuser@example.com", "Test", "User")
    user = repo.get_user(user_id)
    assert (user.email, user.given_name, user.family_name) == (
        "testuser@example.com",
        "Test",
        "User",
    )
    assert user.created_at == user.last_seen_at == clock.now


def test_last_seen_moves_only_after_the_resolution(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    repo.record_user_seen(user_id, "old@example.com")
    first = repo.get_user(user_id)
    clock.advance(seconds=LAST_SEEN_RESOLUTION.total_seconds() / 2)
    repo.record_user_seen(user_id, "new@example.com")
    assert repo.get_user(user_id) == first
    later = clock.advance(seconds=LAST_SEEN_RESOLUTION.total_seconds())
    repo.record_user_seen(user_id, "new@example.com")
    user = repo.get_user(user_id)
    assert user.last_seen_at == later
    assert user.created_at == first.created_at
    assert user.email == "new@example.com"


def test_profile_without_optional_claims(repo: TodoRepository, user_id: str) -> None:
    repo.record_user_seen(user_id)
    user = repo.get_user(user_id)
    assert (user.email, user.given_name, user.family_name) == (None, None, None)


def test_every_profile_write_moves_its_version_by_one(
    repo: TodoRepository, user_id: str, clock: FakeClock
) -> None:
    repo.record_user_seen(user_id, "v@example.com")
    assert repo.get_user(user_id).version == 1
    clock.advance(seconds=LAST_SEEN_RESOLUTION.total_seconds() / 2)
    repo.record_user_seen(user_id, "v@example.com")  # not stale: no write, no new version
    assert repo.get_user(user_id).version == 1
    for expected in (2, 3):
        clock.advance(seconds=LAST_SEEN_RESOLUTION.total_seconds() + 1)
        repo.record_user_seen(user_id, "v@example.com")
        assert repo.get_user(user_id).version == expected


def test_a_profile_written_before_versions_reads_as_0_and_gets_1_on_its_next_write(
    repo: TodoRepository, ddb: Any, table_name: str, user_id: str, clock: FakeClock
) -> None:
    old = clock.now - LAST_SEEN_RESOLUTION * 2
    item = {
        **keys.user_key(user_id),
        "entity_type": "user",
        "user_id": user_id,
        "created_at": old.isoformat().replace("+00:00", "Z"),
        "last_seen_at": old.isoformat().replace("+00:00", "Z"),
    }
    ddb.put_item(TableName=table_name, Item={k: {"S": v} for k, v in item.items()})
    assert repo.get_user(user_id).version == 0
    repo.record_user_seen(user_id)
    user = repo.get_user(user_id)
    assert user.version == 1
    assert user.last_seen_at == clock.now
