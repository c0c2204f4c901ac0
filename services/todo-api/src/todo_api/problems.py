"""RFC 9457 problem details: every error the API returns.

Each kind of problem has a stable ``type`` URI and ``title``; clients branch
on ``type``, never on ``detail`` (which is for humans and may change). The
type URIs are tag URIs (RFC 4151), as RFC 9457 suggests for identifiers
that are not meant to be dereferenced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_PREFIX = "tag:todo-api-with-insights,2025:problem:"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        return _TYPE_PREFIX + self.slug


BAD_REQUEST = ProblemType("bad-request", "The request is malformed", 400)
INVALID_CURSOR = ProblemType(
    "invalid-cursor", "The pagination cursor is not valid for this query", 400
)
MALFORMED_IDEMPOTENCY_KEY = ProblemType(
    "malformed-idempotency-key", "The Idempotency-Key header is malformed", 400
)
MALFORMED_PRECONDITION = ProblemType("malformed-if-match", "The If-Match header is malformed", 400)
UNAUTHORIZED = ProblemType("unauthorized", "Authentication is required", 401)
TASK_QUOTA_EXCEEDED = ProblemType(
    "task-quota-exceeded", "The user already has as many tasks as one user may have", 403
)
NOT_FOUND = ProblemType("not-found", "Not found", 404)
TASK_NOT_FOUND = ProblemType("task-not-found", "Task not found", 404)
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", "Method not allowed", 405)
IDEMPOTENCY_IN_FLIGHT = ProblemType(
    "idempotency-request-in-progress",
    "A request with this Idempotency-Key is still being processed",
    409,
)
PRECONDITION_FAILED = ProblemType(
    "precondition-failed", "The task was changed since the given ETag", 412
)
PAYLOAD_TOO_LARGE = ProblemType("payload-too-large", "The request body is too large", 413)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type", "The request body must be application/json", 415
)
VALIDATION_FAILED = ProblemType("validation-failed", "The request is not valid", 422)
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    "This Idempotency-Key was already used with a different request",
    422,
)
INTERNAL_ERROR = ProblemType("internal-error", "Internal server error", 500)
SERVICE_UNAVAILABLE = ProblemType(
    "service-unavailable", "The service is temporarily unavailable; retry later", 503
)

ALL_TYPES = (
    BAD_REQUEST,
    INVALID_CURSOR,
    MALFORMED_IDEMPOTENCY_KEY,
    MALFORMED_PRECONDITION,
    UNAUTHORIZED,
    TASK_QUOTA_EXCEEDED,
    NOT_FOUND,
    TASK_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    IDEMPOTENCY_IN_FLIGHT,
    PRECONDITION_FAILED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION_FAILED,
    IDEMPOTENCY_KEY_REUSED,
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
)
_BY_STATUS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: PAYLOAD_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    422: VALIDATION_FAILED,
    500: INTERNAL_ERROR,
    503: SERVICE_UNAVAILABLE,
}


def by_slug(slug: str) -> ProblemType:
    """The problem type named ``slug`` (how an idempotency record names it)."""
    for problem in ALL_TYPES:
        if problem.slug == slug:
            return problem
    raise KeyError(slug)


def for_status(status: int) -> ProblemType:
    """The generic problem type for an HTTP status (framework-raised errors)."""
    return _BY_STATUS.get(status) or ProblemType(f"http-{status}", "Request failed", status)


class FieldError(BaseModel):
    """One invalid input, located like pydantic does (``["body", "title"]``)."""

    # Documentation only (bodies are built by problem_body): built for the
    # OpenAPI document, not at import.
    model_config = ConfigDict(defer_build=True)

    loc: List[Any]
    msg: str
    type: str


class Problem(BaseModel):
    """The problem+json body (documented in the OpenAPI schema)."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    type: str = Field(description="stable identifier of the kind of problem")
    title: str
    status: int
    detail: Optional[str] = None
    instance: Optional[str] = None
    request_id: Optional[str] = None
    errors: Optional[List[FieldError]] = Field(
        None, description="field-level details of a validation failure"
    )


class ProblemError(Exception):
    """Raised anywhere in request handling; rendered as problem+json."""

    def __init__(
        self,
        problem: ProblemType,
        detail: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
    ) -> None:
        super().__init__(detail or problem.title)
        self.problem = problem
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = errors

    @property
    def status(self) -> int:
        return self.problem.status


def problem_body(
    problem: ProblemType,
    detail: Optional[str] = None,
    instance: Optional[str] = None,
    request_id: Optional[str] = None,
    errors: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    body: Dict[str, Any] = {"type": problem.uri, "title": problem.title, "status": problem.status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if request_id:
        body["request_id"] = request_id
    if errors is not None:
        body["errors"] = errors
    return body


def render(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as ``json.dumps(..., separators=(",", ":"), ensure_ascii=False)``."""
    return to_json(body)


def openapi_responses(*statuses: int) -> Dict[int | str, Dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring problem+json for ``statuses``.

    A reference, not a ``model``: FastAPI builds a validator for every
    response model of every route when the route is declared (forty of them
    here, at cold start), although only the document uses them. The document
    adds the ``Problem`` schema itself (``todo_api.openapi_docs``).
    """
    return {
        status: {
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            "description": for_status(status).title if status in _BY_STATUS else _describe(status),
        }
        for status in statuses
    }


def _describe(status: int) -> str:
    return {
        403: TASK_QUOTA_EXCEEDED.title,
        409: IDEMPOTENCY_IN_FLIGHT.title,
        412: PRECONDITION_FAILED.title,
    }.get(status, "Error")
