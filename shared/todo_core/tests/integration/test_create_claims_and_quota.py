"""Exactly-once creates (claims) and the per-user task quota, against the emulator."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import CURSOR_SECRET

from todo_core import keys
from todo_core.attributes import to_item
from todo_core.cursor import CursorCodec
from todo_core.models import Task
from todo_core.ports import CreateClaim, TaskAlreadyCreated, TaskQuotaExceeded
from todo_core.repository import TodoRepository
from todo_core.task_repository import claim_key


def _claim(request_id: str, fingerprint: str = "f1", ttl: int = 86400) -> CreateClaim:
    return CreateClaim(request_id, fingerprint, int(time.time()) + ttl)


def test_a_claimed_create_happens_once(repo: TodoRepository, user_id: str) -> None:
    claim = _claim(f"{user_id}#key-1")
    first = repo.create_task(Task.new(user_id, {"title": "once"}), claim)
    with pytest.raises(TaskAlreadyCreated) as again:
        repo.create_task(Task.new(user_id, {"title": "once"}), claim)
    assert again.value.task_id == first.task_id
    assert again.value.fingerprint == "f1"
    assert [t.task_id for t in repo.list_tasks(user_id).items] == [first.task_id]


def test_a_failed_claimed_create_writes_nothing(
    repo: TodoRepository, user_id: str, ddb: Any, table_name: str
) -> None:
    claim = _claim(f"{user_id}#key-2")
    first = repo.create_task(Task.new(user_id, {"title": "a"}), claim)
    with pytest.raises(TaskAlreadyCreated):
        repo.create_task(Task.new(user_id, {"title": "a"}), claim)
    stored = ddb.get_item(TableName=table_name, Key=to_item(claim_key(claim.request_id)))["Item"]
    assert stored["task_id"]["S"] == first.task_id
    assert keys.entity_of({k: v["S"] for k, v in stored.items() if k in ("PK", "SK")}) is None


def test_an_expired_claim_no_longer_counts(repo: TodoRepository, user_id: str) -> None:
    repo.create_task(Task.new(user_id, {"title": "old"}), _claim(f"{user_id}#k", ttl=-1))
    repo.create_task(Task.new(user_id, {"title": "new"}), _claim(f"{user_id}#k"))
    assert len(repo.list_tasks(user_id).items) == 2


def test_the_task_quota_holds_and_deletes_free_room(
    ddb: Any, table_name: str, user_id: str
) -> None:
    repo = TodoRepository(ddb, table_name, CursorCodec(CURSOR_SECRET), task_quota=3)
    tasks = [repo.create_task(Task.new(user_id, {"title": f"t{i}"})) for i in range(3)]
    with pytest.raises(TaskQuotaExceeded):
        repo.create_task(Task.new(user_id, {"title": "one too many"}))
    assert len(repo.list_tasks(user_id).items) == 3
    repo.delete_task(user_id, tasks[0].task_id)
    repo.create_task(Task.new(user_id, {"title": "fits again"}))
    assert len(repo.list_tasks(user_id).items) == 3
