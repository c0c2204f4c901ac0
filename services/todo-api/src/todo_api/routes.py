"""HTTP routes: parse and check the request, call the service, shape the response.

Routes are ``async def``: under Lambda (Mangum) they run inline, one request
per container, with no thread hop; under uvicorn the container's
``call`` moves the blocking AWS calls to a worker thread (see
``Settings.blocking_io`` and the README's measurements).
"""

from __future__ import annotations

import functools
import json
from typing import Any, Dict, Optional

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from todo_api import package_version, problems
from todo_api.auth import Principal
from todo_api.container import Container
from todo_api.idempotency import (
    REPLAYED_HEADER,
    MalformedIdempotencyKey,
    StoredResponse,
    parse_idempotency_key,
)
from todo_api.middleware import USER_ID
from todo_api.preconditions import MalformedIfMatch, etag_for, parse_if_match
from todo_api.schemas import (
    Health,
    ListQuery,
    TaskCreate,
    TaskOut,
    TaskPage,
    TaskUpdate,
    UserOut,
    task_json,
    user_json,
)

MAX_TASK_ID_LENGTH = 128
JSON = "application/json"

router = APIRouter()

_AUTH_ERRORS = (401, 503)
_WRITE_ERRORS = (400, 401, 409, 413, 422, 503)


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def json_response(
    body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        status_code=status,
        headers=headers,
        media_type=JSON,
    )


def stored_to_response(result: StoredResponse) -> Response:
    headers = dict(result.headers or {})
    media_type = headers.pop("content-type", JSON)
    if result.replayed:
        headers[REPLAYED_HEADER] = "true"
    if result.content is None:
        return Response(status_code=result.status, headers=headers)
    return Response(
        result.content.encode("utf-8"),
        status_code=result.status,
        headers=headers,
        media_type=media_type,
    )


async def current_principal(request: Request) -> Principal:
    """The authenticated caller (401 otherwise)."""
    c = container(request)
    principal = await c.call(
        c.authenticate, request.headers.get("authorization"), request.scope.get("aws.event")
    )
    request.scope[USER_ID] = principal.user_id
    return principal


def _idempotency_key(value: Optional[str]) -> Optional[str]:
    try:
        return parse_idempotency_key(value)
    except MalformedIdempotencyKey as exc:
        raise problems.ProblemError(problems.MALFORMED_IDEMPOTENCY_KEY, str(exc)) from exc


def _if_match(value: Optional[str]) -> Any:
    try:
        return parse_if_match(value)
    except MalformedIfMatch as exc:
        raise problems.ProblemError(problems.MALFORMED_PRECONDITION, str(exc)) from exc


async def _write(request: Request, principal: Principal, body: Any, operation: Any) -> Response:
    """Run a write, through the idempotency layer when the caller sent a key."""
    key = _idempotency_key(request.headers.get("idempotency-key"))
    c = container(request)
    if key is None:
        result = await c.call(operation)
    else:
        fingerprint = {
            "method": request.method,
            "path": request.scope["path"],
            "if_match": request.headers.get("if-match"),
            "body": body.model_dump(mode="json", exclude_unset=True) if body is not None else None,
        }
        result = await c.call(
            c.idempotency.run,
            principal.user_id,
            key,
            fingerprint,
            operation,
            request.scope.get("aws.context"),
        )
    return stored_to_response(result)


# Headers and list filters are read by the routes themselves (one pydantic
# call) rather than declared one by one as FastAPI parameters: FastAPI's
# per-parameter resolution was the largest share of the warm per-request
# cost (see benchmarks). They are documented through openapi_extra.
_IDEMPOTENCY_KEY_DOC = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes the write safe to retry: the same key with the same request replays the first "
        "response (marked `Idempotent-Replayed: true`) for 24 hours. Visible ASCII, at most 255 "
        "characters, bare or as a quoted structured-field string."
    ),
    "schema": {"type": "string", "maxLength": 257},
}
_IF_MATCH_DOC = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Apply the change only if the task's current ETag is one of these (else 412).",
    "schema": {"type": "string", "maxLength": 1024},
}
_WRITE_HEADERS = {"parameters": [_IDEMPOTENCY_KEY_DOC]}
_CONDITIONAL_WRITE_HEADERS = {"parameters": [_IDEMPOTENCY_KEY_DOC, _IF_MATCH_DOC]}
TaskIdPath = Path(..., min_length=1, max_length=MAX_TASK_ID_LENGTH)


@router.get("/health", response_model=Health, tags=["health"], operation_id="health")
async def health(request: Request) -> Response:
    """Liveness: no authentication, no AWS calls."""
    stage = container(request).settings.stage
    return json_response({"status": "ok", "version": package_version(), "environment": stage})


@router.get(
    "/api/v1/users/me",
    response_model=UserOut,
    tags=["users"],
    operation_id="get_current_user",
    responses=problems.openapi_responses(*_AUTH_ERRORS),
)
async def get_me(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """The caller's profile, created from the token's claims on first use."""
    c = container(request)
    user = await c.call(c.service.profile, principal)
    return json_response(user_json(user))


@router.post(
    "/api/v1/tasks",
    status_code=201,
    response_model=TaskOut,
    tags=["tasks"],
    operation_id="create_task",
    responses=problems.openapi_responses(*_WRITE_ERRORS),
    openapi_extra=_WRITE_HEADERS,
)
async def create_task(
    request: Request,
    body: TaskCreate,
    principal: Principal = Depends(current_principal),
) -> Response:
    """Create a task; 201 with its Location and ETag."""
    c = container(request)
    base_path = request.scope.get("root_path", "")
    operation = functools.partial(c.service.create_task, principal.user_id, body, base_path)
    return await _write(request, principal, body, operation)


@router.get(
    "/api/v1/tasks",
    response_model=TaskPage,
    tags=["tasks"],
    operation_id="list_tasks",
    responses=problems.openapi_responses(400, 401, 422, 503),
    openapi_extra={"parameters": ListQuery.openapi_parameters()},
)
async def list_tasks(
    request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """The caller's tasks, one page at a time.

    Without filters: creation order. With any filter: by due date (undated
    last), then creation. Every combination is one DynamoDB Query.
    """
    query = ListQuery.from_request(request.query_params)
    c = container(request)
    page = await c.call(
        c.service.list_tasks, principal.user_id, query.filters(), query.limit, query.cursor
    )
    return json_response(page)


@router.get(
    "/api/v1/tasks/{task_id}",
    response_model=TaskOut,
    tags=["tasks"],
    operation_id="get_task",
    responses=problems.openapi_responses(401, 404, 422, 503),
)
async def get_task(
    request: Request,
    task_id: str = TaskIdPath,
    principal: Principal = Depends(current_principal),
) -> Response:
    """One task (404 for unknown ids and for other users' tasks alike)."""
    c = container(request)
    task = await c.call(c.service.get_task, principal.user_id, task_id)
    return json_response(task_json(task), headers={"etag": etag_for(task.version)})


async def _update(
    request: Request, task_id: str, body: TaskUpdate, principal: Principal
) -> Response:
    condition = _if_match(request.headers.get("if-match"))
    c = container(request)
    operation = functools.partial(
        c.service.update_task, principal.user_id, task_id, body, condition, request.scope["path"]
    )
    return await _write(request, principal, body, operation)


_UPDATE_RESPONSES = problems.openapi_responses(*_WRITE_ERRORS, 404, 412)


@router.put(
    "/api/v1/tasks/{task_id}",
    response_model=TaskOut,
    tags=["tasks"],
    operation_id="update_task",
    responses=_UPDATE_RESPONSES,
    openapi_extra=_CONDITIONAL_WRITE_HEADERS,
)
async def put_task(
    request: Request,
    body: TaskUpdate,
    task_id: str = TaskIdPath,
    principal: Principal = Depends(current_principal),
) -> Response:
    """Change the fields given (a partial update, as PATCH)."""
    return await _update(request, task_id, body, principal)


@router.patch(
    "/api/v1/tasks/{task_id}",
    response_model=TaskOut,
    tags=["tasks"],
    operation_id="patch_task",
    responses=_UPDATE_RESPONSES,
    openapi_extra=_CONDITIONAL_WRITE_HEADERS,
)
async def patch_task(
    request: Request,
    body: TaskUpdate,
    task_id: str = TaskIdPath,
    principal: Principal = Depends(current_principal),
) -> Response:
    """Change the fields given; ``null`` clears description, category or due_date."""
    return await _update(request, task_id, body, principal)


@router.delete(
    "/api/v1/tasks/{task_id}",
    status_code=204,
    response_class=Response,
    tags=["tasks"],
    operation_id="delete_task",
    responses=problems.openapi_responses(400, 401, 404, 409, 412, 422, 503),
    openapi_extra=_CONDITIONAL_WRITE_HEADERS,
)
async def delete_task(
    request: Request,
    task_id: str = TaskIdPath,
    principal: Principal = Depends(current_principal),
) -> Response:
    """Delete a task; 204."""
    condition = _if_match(request.headers.get("if-match"))
    c = container(request)
    operation = functools.partial(
        c.service.delete_task, principal.user_id, task_id, condition, request.scope["path"]
    )
    return await _write(request, principal, None, operation)
