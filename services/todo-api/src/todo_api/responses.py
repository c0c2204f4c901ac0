"""Rendering: JSON bodies, task representations and problem+json."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from fastapi import Request
from fastapi.responses import Response
from pydantic_core import to_json

from todo_api import problems
from todo_api.http_errors import HttpError
from todo_api.idempotency import REPLAYED_HEADER
from todo_api.middleware import REQUEST_ID
from todo_api.preconditions import etag_for
from todo_api.schemas import task_json
from todo_core.models import Task

JSON = "application/json"


__all__ = ["JSON", "REPLAYED_HEADER", "json_response", "problem_response", "task_response"]


def json_response(
    body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None
) -> Response:
    return Response(
        # Compact UTF-8 JSON, as json.dumps(separators=(",", ":"), ensure_ascii=False)
        # writes it, in a third of the time.
        to_json(body),
        status_code=status,
        headers=headers,
        media_type=JSON,
    )


def task_response(
    task: Task, status: int = 200, headers: Optional[Dict[str, str]] = None
) -> Response:
    """A task with its current ETag (plus ``headers``, e.g. Location)."""
    return json_response(
        task_json(task), status, {**(headers or {}), "etag": etag_for(task.version)}
    )


def problem_response(
    request: Request,
    error: HttpError,
    headers: Optional[Dict[str, str]] = None,
    errors: Optional[List[Dict[str, Any]]] = None,
) -> Response:
    body = problems.problem_body(
        error.problem,
        detail=error.detail,
        instance=request.scope.get("path"),
        request_id=request.scope.get(REQUEST_ID),
        errors=errors,
    )
    return Response(
        problems.render(body),
        status_code=error.problem.status,
        headers={**error.headers, **(headers or {})},
        media_type=problems.PROBLEM_CONTENT_TYPE,
    )
