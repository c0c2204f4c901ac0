"""Every mapping of an error to HTTP: one table, used by the app and by idempotent writes.

The service layer raises domain errors (``todo_core.errors``, ``todo_core.ports``)
and the adapters' own (authentication, idempotency); this module alone decides
their status, problem type, detail and headers. Errors marked *decided* are
outcomes of the operation itself (the task is not there, the If-Match is
stale): an idempotent write stores and replays them like a success. The rest
are refused or failed requests and store nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple, Type

from todo_api import problems
from todo_api.auth import AuthError, KeySetUnavailable
from todo_api.idempotency import (
    IdempotencyConflict,
    IdempotencyKeyReused,
    IdempotencyStoreError,
)
from todo_core.errors import (
    InvalidCursor,
    StoreUnavailable,
    TaskNotFound,
    UserNotFound,
    VersionConflict,
)
from todo_core.ports import TaskQuotaExceeded


@dataclass(frozen=True)
class HttpError:
    problem: problems.ProblemType
    detail: Optional[str]
    headers: Dict[str, str]


def _retry_after(exc: Exception) -> Dict[str, str]:
    return {"Retry-After": str(max(1, int(getattr(exc, "retry_after_seconds", 1))))}


_STALE_ETAG = "the task was changed since the ETag in If-Match; read it again"

#: exception type -> (problem, detail, headers); the first matching type wins.
_MAPPING: Tuple[Tuple[Type[Exception], Callable[[Exception], HttpError]], ...] = (
    (TaskNotFound, lambda e: HttpError(problems.TASK_NOT_FOUND, "no such task", {})),
    (VersionConflict, lambda e: HttpError(problems.PRECONDITION_FAILED, _STALE_ETAG, {})),
    (UserNotFound, lambda e: HttpError(problems.NOT_FOUND, "no profile for this user", {})),
    (InvalidCursor, lambda e: HttpError(problems.INVALID_CURSOR, str(e), {})),
    (TaskQuotaExceeded, lambda e: HttpError(problems.TASK_QUOTA_EXCEEDED, str(e), {})),
    (
        AuthError,
        lambda e: HttpError(
            problems.UNAUTHORIZED,
            getattr(e, "reason", None),
            {"WWW-Authenticate": getattr(e, "www_authenticate", "Bearer")},
        ),
    ),
    (
        IdempotencyConflict,
        lambda e: HttpError(
            problems.IDEMPOTENCY_IN_FLIGHT,
            "the first request with this Idempotency-Key has not finished; retry later",
            {"Retry-After": "1"},
        ),
    ),
    (
        IdempotencyKeyReused,
        lambda e: HttpError(
            problems.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used for a different request; use a new key",
            {},
        ),
    ),
    (StoreUnavailable, lambda e: HttpError(problems.SERVICE_UNAVAILABLE, None, _retry_after(e))),
    (KeySetUnavailable, lambda e: HttpError(problems.SERVICE_UNAVAILABLE, None, _retry_after(e))),
    (
        IdempotencyStoreError,
        lambda e: HttpError(problems.SERVICE_UNAVAILABLE, None, _retry_after(e)),
    ),
)

#: Outcomes the operation decides: stored and replayed by idempotent writes.
DECIDED: Tuple[Type[Exception], ...] = (TaskNotFound, VersionConflict)
#: Mapped errors that mean "retry later" (logged as a dependency problem).
UNAVAILABLE: Tuple[Type[Exception], ...] = (
    StoreUnavailable,
    KeySetUnavailable,
    IdempotencyStoreError,
)
HANDLED: Tuple[Type[Exception], ...] = tuple(kind for kind, _ in _MAPPING)


def http_error(exc: Exception) -> HttpError:
    """How ``exc`` is answered; only for the types in :data:`HANDLED`."""
    for kind, build in _MAPPING:
        if isinstance(exc, kind):
            return build(exc)
    raise TypeError(f"no HTTP mapping for {type(exc).__name__}")


def replayed_error(slug: str) -> HttpError:
    """A decided outcome, from the problem type its idempotency record names."""
    for kind in DECIDED:
        answer = http_error(_EXAMPLES[kind])
        if answer.problem.slug == slug:
            return answer
    raise KeyError(slug)


_EXAMPLES: Dict[Type[Exception], Exception] = {
    TaskNotFound: TaskNotFound(""),
    VersionConflict: VersionConflict(None),
}
