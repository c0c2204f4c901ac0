"""Request and response bodies: the API's contract (rendered in openapi.json).

Field rules come from todo_core (``Title``, ``Description``, ``Category``,
the enums, normalisation), so the API cannot accept what the domain would
refuse. Request models forbid unknown fields: a typo is a 422, not a
silently ignored change.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List, Mapping, Optional

from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from typing_extensions import Annotated

from todo_core.cursor import MAX_CURSOR_LENGTH
from todo_core.models import (
    CATEGORY_MAX_LENGTH,
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
from todo_core.ports import TaskFilter
from todo_core.task_repository import MAX_PAGE_SIZE
from todo_core.text import clean_text, is_invisible

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Every model here is built (its validator and serializer) when first used,
# not when this module is imported: the request models by the first request
# of their routes, the response models only for the OpenAPI document
# (responses are rendered by ``task_json`` and ``user_json``). Building them
# all at import was a noticeable part of the Lambda cold start.


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be an ISO-8601 calendar date (YYYY-MM-DD)")


#: ISO-8601 calendar date (``2025-01-31``) only: no numbers, no timestamps.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


def _title(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if is_invisible(value):
        raise ValueError("title must not be blank")
    return normalize_title(clean_text(value))


def _description(value: Any) -> Any:
    return clean_text(value, allow_layout=True) if isinstance(value, str) else value


def _category(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    # Invisible-only is blank, and a blank category means none.
    return None if is_invisible(value) else normalize_category(clean_text(value))


class TaskCreate(BaseModel):
    """A new task. Only ``title`` is required."""

    model_config = ConfigDict(
        defer_build=True,
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
    _normalise_description = field_validator("description", mode="before")(_description)
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
        defer_build=True,
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
    _normalise_description = field_validator("description", mode="before")(_description)
    _normalise_category = field_validator("category", mode="before")(_category)

    @model_validator(mode="after")
    def _meaningful(self) -> TaskUpdate:
        if not self.model_fields_set:
            raise ValueError("at least one field must be given")
        for name in ("title", "status", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> Dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


DEFAULT_PAGE_SIZE = 20
_LIST_DOCS = {
    "status": "only tasks in this status",
    "priority": "only tasks of this priority",
    "category": "only tasks of this category (case-insensitive)",
    "due_after": "only tasks due on or after this date (inclusive); undated tasks are excluded",
    "due_before": "only tasks due on or before this date (inclusive); undated tasks are excluded",
    "limit": "page size",
    "cursor": "next_cursor of the previous page",
}


class ListQuery(BaseModel):
    """The list filters (query string), validated in one pass."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    status: Optional[TaskStatus] = None
    priority: Optional[TaskPriority] = None
    category: Optional[str] = Field(None, max_length=CATEGORY_MAX_LENGTH)
    due_after: Optional[IsoDate] = None
    due_before: Optional[IsoDate] = None
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    cursor: Optional[str] = Field(None, max_length=MAX_CURSOR_LENGTH)

    _normalise_category = field_validator("category", mode="before")(_category)

    @classmethod
    def from_request(cls, params: Mapping[str, str]) -> ListQuery:
        data = {name: params[name] for name in cls.model_fields if name in params}
        try:
            query = cls.model_validate(data)
        except ValidationError as exc:
            raise RequestValidationError(
                [
                    {**error, "loc": ("query", *error["loc"])}
                    for error in exc.errors(include_url=False)
                ]
            ) from None
        if query.due_after and query.due_before and query.due_after > query.due_before:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("query", "due_after"),
                        "msg": "due_after must not be later than due_before",
                    }
                ]
            )
        return query

    def filters(self) -> TaskFilter:
        return TaskFilter(
            status=self.status,
            priority=self.priority,
            category=self.category,
            due_after=self.due_after,
            due_before=self.due_before,
        )

    @classmethod
    def openapi_parameters(cls) -> List[Dict[str, Any]]:
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        parameters = []
        for name, prop in schema["properties"].items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": _LIST_DOCS[name],
                    "schema": prop,
                }
            )
        return parameters


class TaskOut(BaseModel):
    """A task as the API returns it."""

    model_config = ConfigDict(defer_build=True)

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
    # Domain timestamps are already UTC (todo_core.models); convert only others.
    if value.tzinfo is not dt.timezone.utc:
        value = value.astimezone(dt.timezone.utc)
    return value.isoformat().replace("+00:00", "Z")


class TaskPage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    items: List[TaskOut]
    next_cursor: Optional[str] = Field(
        None, description="pass as ?cursor= for the next page; null on the last page"
    )


class UserOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

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
    model_config = ConfigDict(defer_build=True)

    status: str = Field(examples=["ok"])
    version: str = Field(examples=["0.1.0"])
    environment: str = Field(examples=["production"])
