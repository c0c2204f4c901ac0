"""Domain errors. Adapters (HTTP, Lambda) map them to their own vocabulary."""

from __future__ import annotations

from typing import Optional


class TodoError(Exception):
    """Base class of every domain error."""


class TaskNotFound(TodoError):
    """No such task for this user (another user's task is "not found" too)."""


class UserNotFound(TodoError):
    pass


class VersionConflict(TodoError):
    """The task changed since the caller read it (optimistic locking)."""

    def __init__(self, expected: Optional[int], current: Optional[int] = None) -> None:
        super().__init__(f"expected version {expected}, current {current}")
        self.expected = expected
        self.current = current


class InvalidCursor(TodoError):
    """A pagination cursor that was forged, altered, or belongs to another query."""


class StoreUnavailable(TodoError):
    """The data store throttled or is unreachable; the caller should retry later."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
