"""The outermost request wrapper (plain ASGI, so it costs microseconds).

For every HTTP request it:

* settles the correlation id (``X-Request-ID`` or API Gateway's request id)
  and echoes it back in ``X-Request-ID``;
* tells the app about an API Gateway stage prefix (``root_path``), so
  ``/docs`` and ``Location`` headers carry it;
* refuses bodies over the size limit with 413, by Content-Length up front
  and by counting while the body streams in;
* turns anything unhandled into a 500 problem+json (never a stack trace) and
  logs it with the traceback;
* writes one structured log line with the request's outcome and duration.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple

from starlette.exceptions import HTTPException

from todo_api import problems
from todo_api.observability import COMPONENT, correlation_id, gateway_request_id, logger

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Keys the app puts in the scope for this wrapper to log.
USER_ID = "todo.user_id"
REQUEST_ID = "todo.request_id"
#: Route (operation id) -> the runbook's operation names.
OPERATIONS = {
    "health": "health",
    "get_current_user": "get-profile",
    "create_task": "create-task",
    "list_tasks": "query-tasks",
    "get_task": "get-task",
    "update_task": "update-task",
    "patch_task": "update-task",
    "delete_task": "delete-task",
}


class _BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body reader lets it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, base_path: str = "", table_name: str = ""
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.base_path = base_path
        self.table_name = table_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        header_request_id: Optional[str] = None
        content_length: Optional[str] = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                header_request_id = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value.decode("latin-1")
        event = scope.get("aws.event")
        gateway_id = gateway_request_id(event)
        request_id = correlation_id(header_request_id, gateway_id)
        scope[REQUEST_ID] = request_id
        if self.base_path:
            scope["root_path"] = self.base_path
        state: Dict[str, Any] = {"status": 500, "started": False}
        echo = (b"x-request-id", request_id.encode("latin-1"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                # A new list: the response's own header list is left as it is.
                headers: List[Tuple[bytes, bytes]] = [*message.get("headers", ()), echo]
                message["headers"] = headers
            await send(message)

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        try:
            if content_length is not None and _too_long(content_length, self.max_body_bytes):
                raise _BodyTooLarge(self.max_body_bytes)
            await self.app(scope, receive_wrapper, send_wrapper)
        except _BodyTooLarge:
            if not state["started"]:
                await self._problem(
                    send_wrapper,
                    scope,
                    request_id,
                    problems.PAYLOAD_TOO_LARGE,
                    f"request bodies are limited to {self.max_body_bytes} bytes",
                )
        except Exception:
            logger.exception(
                "unhandled error",
                extra=self._fields(scope, request_id, gateway_id, 500, started),
            )
            if not state["started"]:
                await self._problem(send_wrapper, scope, request_id, problems.INTERNAL_ERROR, None)
            return
        status = int(state["status"])
        fields = self._fields(scope, request_id, gateway_id, status, started)
        if status >= 500:
            logger.error("request failed", extra=fields)
        else:
            logger.info("request completed", extra=fields)

    def _fields(
        self,
        scope: Scope,
        request_id: str,
        gateway_id: Optional[str],
        status: int,
        started: float,
    ) -> Dict[str, Any]:
        metadata: Dict[str, Any] = {"method": scope.get("method"), "path": scope.get("path")}
        if self.table_name:
            metadata["table_name"] = self.table_name
        task_id = (scope.get("path_params") or {}).get("task_id")
        if task_id:
            metadata["task_id"] = task_id
        return {
            "request_id": gateway_id or request_id,
            "correlation_id": request_id,
            "user_id": scope.get(USER_ID),
            "component": COMPONENT,
            "operation": _operation(scope),
            "duration_ms": round((time.perf_counter() - started) * 1000.0, 3),
            "status": "success" if status < 400 else "error",
            "http_status": status,
            "metadata": metadata,
        }

    async def _problem(
        self,
        send: Send,
        scope: Scope,
        request_id: str,
        problem: problems.ProblemType,
        detail: Optional[str],
    ) -> None:
        body = problems.render(
            problems.problem_body(
                problem, detail=detail, instance=scope.get("path"), request_id=request_id
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": problem.status,
                "headers": [
                    (b"content-type", problems.PROBLEM_CONTENT_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _operation(scope: Scope) -> str:
    route = scope.get("route")
    operation_id = getattr(route, "operation_id", None) or getattr(route, "name", None)
    return OPERATIONS.get(str(operation_id), "other")


def _too_long(content_length: str, limit: int) -> bool:
    try:
        return int(content_length) > limit
    except ValueError:
        return False
