"""Request and response bodies: the API's contract (rendered in openapi.json).

Field rules come from todo_core (``Title``, ``Description``, ``Category``,
the enums, normalisation), so the API cannot accept what the domain would
refuse. Request models forbid unknown fields: a typo is a 422, not a
silently ignored change.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from typing_extensions import Annotated

from todo_core.models import (
    Category,
    Description,
    Task,
    TaskPriority,
    TaskStatus,
    Title,
    User,
    normalize_category,
    normalize_title,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be an ISO-8601 calendar date (YYYY-MM-DD)")


#: ISO-8601 calendar date (``2025-01-31``) only: no numbers, no timestamps.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


def _title(value: Any) -> Any:
    return normalize_title(value) if isinstance(value, str) else value


def _category(value: Any) -> Any:
    return normalize_category(value) if isinstance(value, str) else value


class TaskCreate(BaseModel):
    """A new task. Only ``title`` is required."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Test Task",
                    "description": "This is a test task created via API",
                    "priority": "medium",
                    "category": "testing",
                    "status": "pending",
                }
            ]
        },
    )

    title: Title
    description: Optional[Description] = None
    status: TaskStatus = TaskStatus.PENDING
    priority: TaskPriority = TaskPriority.MEDIUM
    category: Optional[Category] = Field(
        None, description="a label; trimmed, inner spaces collapsed, lower-cased"
    )
    due_date: Optional[IsoDate] = None

    _normalise_title = field_validator("title", mode="before")(_title)
    _normalise_category = field_validator("category", mode="before")(_category)

    def fields(self) -> Dict[str, Any]:
        return self.model_dump(exclude_none=True)


class TaskUpdate(BaseModel):
    """A partial update: only the fields present change (PUT and PATCH alike).

    ``null`` clears ``description``, ``category`` and ``due_date``; ``title``,
    ``status`` and ``priority`` cannot be null. Entering ``completed`` sets
    ``completed_at``; leaving it clears it.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "in_progress", "priority": "high"}]},
    )

    title: Optional[Title] = None
    description: Optional[Description] = None
    status: Optional[TaskStatus] = None
    priority: Optional[TaskPriority] = None
    category: Optional[Category] = None
    due_date: Optional[IsoDate] = None

    _normalise_title = field_validator("title", mode="before")(_title)
    _normalise_category = field_validator("category", mode="before")(_category)

    @model_validator(mode="after")
    def _meaningful(self) -> "TaskUpdate":
        if not self.model_fields_set:
            raise ValueError("at least one field must be given")
        for name in ("title", "status", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> Dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class TaskOut(BaseModel):
    """A task as the API returns it."""

    task_id: str
    title: str
    description: Optional[str] = None
    status: TaskStatus
    priority: TaskPriority
    category: Optional[str] = None
    due_date: Optional[dt.date] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: Optional[dt.datetime] = None
    version: int = Field(description="increments on every change; the ETag is its quoted value")

    @classmethod
    def of(cls, task: Task) -> "TaskOut":
        return cls.model_construct(**{name: getattr(task, name) for name in cls.model_fields})


def task_json(task: Task) -> Dict[str, Any]:
    """A task's JSON body (what TaskOut renders), built without validation."""
    return {
        "task_id": task.task_id,
        "title": task.title,
        "description": task.description,
        "status": task.status.value,
        "priority": task.priority.value,
        "category": task.category,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "created_at": _timestamp(task.created_at),
        "updated_at": _timestamp(task.updated_at),
        "completed_at": _timestamp(task.completed_at) if task.completed_at else None,
        "version": task.version,
    }


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


class TaskPage(BaseModel):
    items: List[TaskOut]
    next_cursor: Optional[str] = Field(
        None, description="pass as ?cursor= for the next page; null on the last page"
    )


class UserOut(BaseModel):
    user_id: str
    email: Optional[str] = None
    given_name: Optional[str] = None
    family_name: Optional[str] = None
    created_at: dt.datetime
    last_seen_at: dt.datetime


def user_json(user: User) -> Dict[str, Any]:
    return {
        "user_id": user.user_id,
        "email": user.email,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "created_at": _timestamp(user.created_at),
        "last_seen_at": _timestamp(user.last_seen_at),
    }


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str = Field(examples=["0.1.0"])
    environment: str = Field(examples=["production"])
