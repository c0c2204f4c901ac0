"""Domain models: Task and User, and the rules every writer must respect."""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
import time
import uuid
from typing import Annotated, Any, Dict, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
CATEGORY_MAX_LENGTH = 50

_WHITESPACE = re.compile(r"\s+")

#: Task fields only the system sets: identity, history and the version.
PROTECTED_FIELDS = frozenset(
    {"task_id", "user_id", "created_at", "updated_at", "completed_at", "version"}
)


class TaskStatus(str, enum.Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskPriority(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


def normalize_title(value: str) -> str:
    """Titles are trimmed; an all-blank title is no title."""
    value = value.strip()
    if not value:
        raise ValueError("title must not be blank")
    return value


def normalize_category(value: Optional[str]) -> Optional[str]:
    """Categories are case-insensitive labels: trimmed, inner spaces collapsed,
    lower-cased. A blank category means "no category"."""
    if value is None:
        return None
    value = _WHITESPACE.sub(" ", value.strip()).lower()
    return value or None


Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX_LENGTH)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)]
Category = Annotated[str, Field(min_length=1, max_length=CATEGORY_MAX_LENGTH)]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_task_id() -> str:
    """A UUIDv7 (RFC 9562): time-ordered, so the base table lists in creation order."""
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | int.from_bytes(secrets.token_bytes(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC variant
    return str(uuid.UUID(int=value))


def _require_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return value.astimezone(dt.timezone.utc)


class Task(BaseModel):
    """A to-do item. It belongs to exactly one user, for its whole life."""

    # Built on first use rather than at import: a Lambda that imports the
    # domain may answer its first request without a task (the API's /health).
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, use_enum_values=False)

    task_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    title: Title
    description: Optional[Description] = None
    status: TaskStatus = TaskStatus.PENDING
    priority: TaskPriority = TaskPriority.MEDIUM
    category: Optional[Category] = None
    due_date: Optional[dt.date] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: Optional[dt.datetime] = None
    #: Optimistic-locking version: 1 on create, +1 on every update.
    version: int = Field(ge=1)

    _title = field_validator("title", mode="before")(
        lambda v: normalize_title(v) if isinstance(v, str) else v
    )
    _category = field_validator("category", mode="before")(
        lambda v: normalize_category(v) if isinstance(v, str) else v
    )
    _utc = field_validator("created_at", "updated_at", "completed_at")(
        lambda v: _require_utc(v) if v is not None else v
    )

    @model_validator(mode="after")
    def _completed_at_iff_completed(self) -> Task:
        if (self.status is TaskStatus.COMPLETED) != (self.completed_at is not None):
            raise ValueError("completed_at is set exactly when status is completed")
        return self

    @classmethod
    def new(
        cls,
        user_id: str,
        fields: Dict[str, Any],
        now: Optional[dt.datetime] = None,
        task_id: Optional[str] = None,
    ) -> Task:
        """A fresh task (version 1) from user-supplied fields."""
        bad = PROTECTED_FIELDS & set(fields)
        if bad:
            raise ValueError(f"fields cannot be set by callers: {sorted(bad)}")
        now = now or utc_now()
        status = TaskStatus(fields.get("status", TaskStatus.PENDING))
        return cls(
            **{k: v for k, v in fields.items() if k != "status"},
            status=status,
            task_id=task_id or new_task_id(),
            user_id=user_id,
            created_at=now,
            updated_at=now,
            completed_at=now if status is TaskStatus.COMPLETED else None,
            version=1,
        )

    def apply(self, changes: Dict[str, Any], now: Optional[dt.datetime] = None) -> Task:
        """The next version of this task with ``changes`` applied.

        Entering ``completed`` stamps completed_at; leaving it clears it. Keys
        that identify or describe history (ids, timestamps, version) cannot be
        changed by callers.
        """
        bad = PROTECTED_FIELDS & set(changes)
        if bad:
            raise ValueError(f"fields cannot be changed: {sorted(bad)}")
        now = now or utc_now()
        data = self.model_dump()
        data.update(changes)
        status = TaskStatus(data["status"])
        if status is TaskStatus.COMPLETED:
            data["completed_at"] = self.completed_at if self.is_completed else now
        else:
            data["completed_at"] = None
        data["updated_at"] = now
        data["version"] = self.version + 1
        return Task(**data)

    @property
    def is_completed(self) -> bool:
        return self.status is TaskStatus.COMPLETED

    @property
    def etag(self) -> str:
        """Strong validator for HTTP conditional requests."""
        return f'"{self.version}"'


#: The version of a profile written before profiles had one: it ranks below
#: every written version (which start at 1).
UNVERSIONED_USER = 0


class User(BaseModel):
    """A user's profile, created from their token on first use."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    user_id: str = Field(min_length=1)
    email: Optional[str] = None
    given_name: Optional[str] = None
    family_name: Optional[str] = None
    created_at: dt.datetime
    last_seen_at: dt.datetime
    #: 1 on creation, +1 on every write, like a task's: what orders a profile's
    #: changes across change streams (a restored table's stream starts with
    #: smaller sequence numbers). Profiles written before it existed have none
    #: and read as :data:`UNVERSIONED_USER`.
    version: int = Field(default=UNVERSIONED_USER, ge=0)

    _utc = field_validator("created_at", "last_seen_at")(_require_utc)
