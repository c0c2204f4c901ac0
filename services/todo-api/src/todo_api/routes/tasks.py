"""``/api/v1/tasks``: create, list, read, update and delete the caller's tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from todo_api import problems
from todo_api.auth import Principal
from todo_api.deps import (
    container,
    current_principal,
    header,
    idempotency_key,
    if_match,
    json_body,
)
from todo_api.http_errors import DECIDED, http_error, replayed_error
from todo_api.idempotency import IDEMPOTENCY_HEADER, Outcome
from todo_api.openapi_docs import returns
from todo_api.responses import (
    REPLAYED_HEADER,
    json_response,
    problem_response,
    task_response,
)
from todo_api.routing import DirectRoute
from todo_api.schemas import ListQuery, TaskCreate, TaskOut, TaskPage, TaskUpdate, task_json
from todo_core.errors import TaskNotFound
from todo_core.models import Task
from todo_core.ports import CreateClaim

TASKS_PATH = "/api/v1/tasks"
MAX_TASK_ID_LENGTH = 128

router = APIRouter(route_class=DirectRoute)

_WRITE_ERRORS = (400, 401, 409, 413, 422, 503)
_IDEMPOTENCY_KEY_DOC = {
    "name": IDEMPOTENCY_HEADER,
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


def _json_body_doc(model: Any) -> Dict[str, Any]:
    """The request body's documentation (the body is parsed by the route: ``json_body``)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


#: Models the document must define although no parameter declares them.
BODY_MODELS = (TaskCreate, TaskUpdate)
_CREATE_DOC = {"parameters": [_IDEMPOTENCY_KEY_DOC], "requestBody": _json_body_doc(TaskCreate)}
_UPDATE_DOC = {
    "parameters": [_IDEMPOTENCY_KEY_DOC, _IF_MATCH_DOC],
    "requestBody": _json_body_doc(TaskUpdate),
}
_DELETE_DOC = {"parameters": [_IDEMPOTENCY_KEY_DOC, _IF_MATCH_DOC]}
TaskIdPath = Path(..., min_length=1, max_length=MAX_TASK_ID_LENGTH)


@dataclass
class _Result:
    """What a write produced in this request (kept out of the idempotency record)."""

    outcome: Outcome
    task: Optional[Task] = None
    #: The write had already been made by an earlier run of this request.
    earlier: bool = False


#: Runs the write; gets the create claim when the request has an Idempotency-Key.
Write = Callable[[Optional[CreateClaim]], _Result]


def _decided(exc: Exception) -> Outcome:
    error = http_error(exc)
    return Outcome(error.problem.status, problem=error.problem.slug)


def _render(request: Request, result: _Result, replayed: bool) -> Response:
    headers = dict(result.outcome.headers)
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    if result.outcome.problem is not None:
        return problem_response(request, replayed_error(result.outcome.problem), headers)
    if result.task is None:
        return Response(status_code=result.outcome.status, headers=headers)
    return task_response(result.task, result.outcome.status, headers)


async def _write(request: Request, principal: Principal, body: Any, write: Write) -> Response:
    """Run a write, through the idempotency layer when the caller sent a key.

    A replay rebuilds the body from the task as it is now (records keep no
    task content); a task deleted since is 404.
    """
    key = idempotency_key(request)
    c = container(request)
    if key is None:
        result = await c.call(write, None)
        return _render(request, result, replayed=False)

    fingerprint = {
        "method": request.method,
        "path": request.scope["path"],
        "if_match": header(request, b"if-match"),
        "body": body.model_dump(mode="json", exclude_unset=True) if body is not None else None,
    }
    claim = c.idempotency.claim(principal.user_id, key, fingerprint)
    produced: Dict[str, _Result] = {}

    def operation() -> Outcome:
        try:
            produced["result"] = write(claim)
        except DECIDED as exc:
            return _decided(exc)
        return produced["result"].outcome

    def replay(outcome: Outcome) -> _Result:
        if outcome.task_id is None or outcome.problem is not None:
            return _Result(outcome)
        try:
            return _Result(outcome, c.service.get_task(principal.user_id, outcome.task_id))
        except TaskNotFound as exc:
            return _Result(_decided(exc))

    outcome, replayed = await c.call(
        c.idempotency.run,
        principal.user_id,
        key,
        fingerprint,
        operation,
        request.scope.get("aws.context"),
    )
    if replayed:
        return _render(request, await c.call(replay, outcome), replayed=True)
    result = produced.get("result", _Result(outcome))
    return _render(request, result, replayed=result.earlier)


@router.post(
    TASKS_PATH,
    status_code=201,
    tags=["tasks"],
    operation_id="create_task",
    responses={**returns(TaskOut, 201), **problems.openapi_responses(*_WRITE_ERRORS, 403)},
    openapi_extra=_CREATE_DOC,
)
async def create_task(request: Request) -> Response:
    """Create a task; 201 with its Location and ETag (403 past the per-user quota)."""
    principal = await current_principal(request)
    body = await json_body(request, TaskCreate)
    c = container(request)
    base_path = request.scope.get("root_path", "")

    def write(claim: Optional[CreateClaim]) -> _Result:
        created = c.service.create_task(principal.user_id, body.fields(), claim)
        location = f"{base_path}{TASKS_PATH}/{created.task.task_id}"
        outcome = Outcome(201, {"location": location}, task_id=created.task.task_id)
        return _Result(outcome, created.task, earlier=created.earlier)

    return await _write(request, principal, body, write)


@router.get(
    TASKS_PATH,
    tags=["tasks"],
    operation_id="list_tasks",
    responses={**returns(TaskPage), **problems.openapi_responses(400, 401, 422, 503)},
)
async def list_tasks(request: Request) -> Response:
    """The caller's tasks, one page at a time.

    Without filters: creation order. With any filter: by due date (undated
    last), then creation. Every combination is one DynamoDB Query, and one
    request examines a bounded number of items: a page may be short (even
    empty) with a `next_cursor`; only a null `next_cursor` ends the list.
    """
    principal = await current_principal(request)
    query = ListQuery.from_request(request.query_params)
    c = container(request)
    page = await c.call(
        c.service.list_tasks, principal.user_id, query.filters(), query.limit, query.cursor
    )
    return json_response(
        {"items": [task_json(t) for t in page.items], "next_cursor": page.next_cursor}
    )


@router.get(
    TASKS_PATH + "/{task_id}",
    tags=["tasks"],
    operation_id="get_task",
    responses={**returns(TaskOut), **problems.openapi_responses(401, 404, 422, 503)},
)
async def get_task(request: Request, task_id: str = TaskIdPath) -> Response:
    """One task (404 for unknown ids and for other users' tasks alike)."""
    principal = await current_principal(request)
    c = container(request)
    task = await c.call(c.service.get_task, principal.user_id, task_id)
    return task_response(task)


async def _update(request: Request, task_id: str) -> Response:
    principal = await current_principal(request)
    body = await json_body(request, TaskUpdate)
    condition = if_match(request)
    c = container(request)

    def write(claim: Optional[CreateClaim]) -> _Result:
        task = c.service.update_task(principal.user_id, task_id, body.changes(), condition)
        return _Result(Outcome(200, task_id=task.task_id), task)

    return await _write(request, principal, body, write)


_UPDATE_RESPONSES = problems.openapi_responses(*_WRITE_ERRORS, 404, 412)


@router.put(
    TASKS_PATH + "/{task_id}",
    tags=["tasks"],
    operation_id="update_task",
    responses={**returns(TaskOut), **_UPDATE_RESPONSES},
    openapi_extra=_UPDATE_DOC,
)
async def put_task(request: Request, task_id: str = TaskIdPath) -> Response:
    """Change the fields given (a partial update, as PATCH)."""
    return await _update(request, task_id)


@router.patch(
    TASKS_PATH + "/{task_id}",
    tags=["tasks"],
    operation_id="patch_task",
    responses={**returns(TaskOut), **_UPDATE_RESPONSES},
    openapi_extra=_UPDATE_DOC,
)
async def patch_task(request: Request, task_id: str = TaskIdPath) -> Response:
    """Change the fields given; ``null`` clears description, category or due_date."""
    return await _update(request, task_id)


@router.delete(
    TASKS_PATH + "/{task_id}",
    status_code=204,
    response_class=Response,
    tags=["tasks"],
    operation_id="delete_task",
    responses=problems.openapi_responses(400, 401, 404, 409, 412, 422, 503),
    openapi_extra=_DELETE_DOC,
)
async def delete_task(request: Request, task_id: str = TaskIdPath) -> Response:
    """Delete a task; 204."""
    principal = await current_principal(request)
    condition = if_match(request)
    c = container(request)

    def write(claim: Optional[CreateClaim]) -> _Result:
        c.service.delete_task(principal.user_id, task_id, condition)
        return _Result(Outcome(204))

    return await _write(request, principal, None, write)
