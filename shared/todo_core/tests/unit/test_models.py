"""Field rules of Task and User, and the apply() transitions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from todo_core.models import (
    CATEGORY_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    PROTECTED_FIELDS,
    TITLE_MAX_LENGTH,
    Task,
    TaskPriority,
    TaskStatus,
    User,
    new_task_id,
    normalize_category,
)

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(minutes=1)
T2 = T0 + dt.timedelta(minutes=2)


def make(**fields: object) -> Task:
    return Task.new("user-1", {"title": "Write tests", **fields}, now=T0)


# --- title ---------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", " ", "\t\n ", "\u3000"])
def test_blank_title_is_rejected(title: str) -> None:
    with pytest.raises(ValidationError, match="title"):
        make(title=title)


def test_title_is_trimmed() -> None:
    assert make(title="  Buy milk \n").title == "Buy milk"


def test_title_length_cap_counts_characters_after_trimming() -> None:
    assert len(make(title="x" * TITLE_MAX_LENGTH).title) == TITLE_MAX_LENGTH
    assert make(title="  " + "é" * TITLE_MAX_LENGTH + "  ").title == "é" * TITLE_MAX_LENGTH
    with pytest.raises(ValidationError, match="title"):
        make(title="x" * (TITLE_MAX_LENGTH + 1))


def test_title_must_be_text() -> None:
    with pytest.raises(ValidationError):
        make(title=42)


def test_description_length_cap() -> None:
    assert make(description="d" * DESCRIPTION_MAX_LENGTH).description
    with pytest.raises(ValidationError, match="description"):
        make(description="d" * (DESCRIPTION_MAX_LENGTH + 1))


# --- category --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Work", "work"),
        ("  Home  Office ", "home office"),
        ("A\tB\nC", "a b c"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_category_is_normalized(raw: object, normalized: object) -> None:
    assert make(category=raw).category == normalized


def test_category_length_cap_applies_after_normalization() -> None:
    longest = "c" * CATEGORY_MAX_LENGTH
    assert make(category=" " + longest + " ").category == longest
    with pytest.raises(ValidationError, match="category"):
        make(category="c" * (CATEGORY_MAX_LENGTH + 1))


@given(st.text())
def test_normalize_category_is_idempotent(raw: str) -> None:
    once = normalize_category(raw)
    assert normalize_category(once) == once
    if once is not None:
        assert once == once.strip().lower()
        assert "  " not in once


# --- completed_at iff completed ------------------------------------------------------


def test_new_completed_task_is_stamped() -> None:
    task = make(status="completed")
    assert task.status is TaskStatus.COMPLETED
    assert task.completed_at == T0


@pytest.mark.parametrize("status", ["pending", "in_progress", "cancelled"])
def test_new_open_task_has_no_completed_at(status: str) -> None:
    assert make(status=status).completed_at is None


def test_completed_without_completed_at_is_invalid() -> None:
    data = make().model_dump()
    data["status"] = TaskStatus.COMPLETED
    with pytest.raises(ValidationError, match="completed_at"):
        Task(**data)


def test_completed_at_without_completed_status_is_invalid() -> None:
    data = make().model_dump()
    data["completed_at"] = T0
    with pytest.raises(ValidationError, match="completed_at"):
        Task(**data)


# --- Task.new ------------------------------------------------------------------------------


def test_new_task_defaults() -> None:
    task = make()
    assert task.version == 1
    assert task.user_id == "user-1"
    assert task.status is TaskStatus.PENDING
    assert task.priority is TaskPriority.MEDIUM
    assert task.created_at == task.updated_at == T0
    assert task.etag == '"1"'
    assert uuid.UUID(task.task_id).version == 7


@pytest.mark.parametrize("field", sorted(PROTECTED_FIELDS))
def test_new_rejects_protected_fields(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        make(**{field: "x"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "done"}, "done"),
        ({"priority": "critical"}, "priority"),
        ({"due_date": "next week"}, "due_date"),
        ({"colour": "red"}, "colour"),  # unknown fields are refused, not ignored
    ],
)
def test_new_rejects_invalid_fields(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**fields)


def test_timestamps_must_be_aware_and_are_stored_in_utc() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        Task.new("u", {"title": "t"}, now=dt.datetime(2030, 1, 1))
    paris = dt.timezone(dt.timedelta(hours=1))
    task = Task.new("u", {"title": "t"}, now=dt.datetime(2030, 1, 1, 13, tzinfo=paris))
    assert task.created_at.utcoffset() == dt.timedelta(0)
    assert task.created_at == dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone.utc)


def test_task_is_immutable() -> None:
    task = make()
    with pytest.raises(ValidationError):
        task.title = "changed"  # type: ignore[misc]


# --- apply() -----------------------------------------------------------------------------------


def test_apply_returns_next_version_and_leaves_original_alone() -> None:
    task = make(description="old")
    updated = task.apply({"title": "  New title ", "description": "new"}, now=T1)
    assert (updated.title, updated.description) == ("New title", "new")
    assert updated.version == 2
    assert updated.updated_at == T1
    assert updated.created_at == task.created_at == T0
    assert updated.task_id == task.task_id
    assert (task.title, task.version) == ("Write tests", 1)
    assert updated.etag == '"2"'


def test_entering_completed_stamps_completed_at() -> None:
    done = make().apply({"status": "completed"}, now=T1)
    assert done.completed_at == T1


def test_staying_completed_keeps_the_first_completion_time() -> None:
    done = make().apply({"status": "completed"}, now=T1)
    still = done.apply({"status": TaskStatus.COMPLETED, "title": "renamed"}, now=T2)
    again = done.apply({"priority": "high"}, now=T2)
    assert still.completed_at == again.completed_at == T1


@pytest.mark.parametrize("status", ["pending", "in_progress", "cancelled"])
def test_leaving_completed_clears_completed_at(status: str) -> None:
    reopened = make(status="completed").apply({"status": status}, now=T1)
    assert reopened.completed_at is None
    assert reopened.status is TaskStatus(status)


@pytest.mark.parametrize("field", sorted(PROTECTED_FIELDS))
def test_apply_rejects_protected_fields(field: str) -> None:
    with pytest.raises(ValueError, match="cannot be changed"):
        make().apply({field: "x"}, now=T1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"status": "archived"}, "archived"),
        ({"bogus": 1}, "bogus"),
        ({"category": "c" * 99}, "category"),
    ],
)
def test_apply_validates_the_result(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make().apply(changes, now=T1)


def test_apply_can_clear_optional_fields() -> None:
    task = make(description="d", category="c", due_date=dt.date(2030, 2, 1))
    cleared = task.apply({"description": None, "category": None, "due_date": None}, now=T1)
    assert (cleared.description, cleared.category, cleared.due_date) == (None, None, None)


@given(st.lists(st.sampled_from(list(TaskStatus)), max_size=12))
def test_completed_at_tracks_status_over_any_history(statuses: List[TaskStatus]) -> None:
    task = make()
    completed_since = None
    for i, status in enumerate(statuses):
        now = T0 + dt.timedelta(seconds=i + 1)
        was_completed = task.is_completed
        task = task.apply({"status": status}, now=now)
        if status is TaskStatus.COMPLETED:
            completed_since = completed_since if was_completed else now
        else:
            completed_since = None
        assert task.completed_at == completed_since
        assert task.version == i + 2
        assert task.updated_at == now


# --- ids and users -----------------------------------------------------------------------------


def test_task_ids_are_uuid7_and_time_ordered() -> None:
    ids = []
    for _ in range(3):
        ids.append(new_task_id())
        start = dt.datetime.now()
        while dt.datetime.now() - start < dt.timedelta(milliseconds=2):
            pass
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert ids == sorted(ids)
    assert len({new_task_id() for _ in range(1000)}) == 1000


def test_user_requires_aware_timestamps() -> None:
    user = User(user_id="u", email="a@b.c", created_at=T0, last_seen_at=T1)
    assert user.given_name is None
    with pytest.raises(ValidationError, match="time zone"):
        User(user_id="u", created_at=dt.datetime(2030, 1, 1), last_seen_at=T1)
    with pytest.raises(ValidationError):
        User(user_id="", created_at=T0, last_seen_at=T0)


def test_a_user_without_a_version_is_version_0_and_versions_are_never_negative() -> None:
    assert User(user_id="u", created_at=T0, last_seen_at=T1).version == 0
    assert User(user_id="u", created_at=T0, last_seen_at=T1, version=3).version == 3
    with pytest.raises(ValidationError):
        User(user_id="u", created_at=T0, last_seen_at=T1, version=-1)
