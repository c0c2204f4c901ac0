"""Per-request dependencies: the container, the caller, and the write headers."""

from __future__ import annotations

from typing import Optional, Type, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from todo_api import problems
from todo_api.auth import Principal
from todo_api.container import Container
from todo_api.idempotency import (
    IDEMPOTENCY_HEADER,
    MalformedIdempotencyKey,
    parse_idempotency_key,
)
from todo_api.middleware import USER_ID
from todo_api.preconditions import IfMatch, MalformedIfMatch, parse_if_match

#: The header as ASGI lists it: lower-case bytes.
_IDEMPOTENCY_HEADER = IDEMPOTENCY_HEADER.lower().encode("latin-1")


def header(request: Request, name: bytes) -> Optional[str]:
    """The first value of header ``name`` (lower-case), as ``request.headers.get(name)``.

    Read from the scope's header list: Starlette's mapping raises and catches
    a KeyError for every absent header, and most requests send no
    Idempotency-Key or If-Match.
    """
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


async def current_principal(request: Request) -> Principal:
    """The authenticated caller (401 otherwise)."""
    c = container(request)
    principal = await c.call(
        c.authenticate, header(request, b"authorization"), request.scope.get("aws.event")
    )
    request.scope[USER_ID] = principal.user_id
    return principal


def idempotency_key(request: Request) -> Optional[str]:
    try:
        return parse_idempotency_key(header(request, _IDEMPOTENCY_HEADER))
    except MalformedIdempotencyKey as exc:
        raise problems.ProblemError(problems.MALFORMED_IDEMPOTENCY_KEY, str(exc)) from exc


def if_match(request: Request) -> Optional[IfMatch]:
    try:
        return parse_if_match(header(request, b"if-match"))
    except MalformedIfMatch as exc:
        raise problems.ProblemError(problems.MALFORMED_PRECONDITION, str(exc)) from exc


M = TypeVar("M", bound=BaseModel)


def _is_json(content_type: Optional[str]) -> bool:
    if not content_type:
        return True  # as FastAPI: a body without a type is read as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def json_body(request: Request, model: Type[M]) -> M:
    """The request body as ``model``, parsed and validated in one pydantic call.

    Read here rather than declared as a FastAPI body parameter: FastAPI's
    parameter resolution (``json.loads``, then validation, per request) was
    the largest share of the warm cost of a write. Errors are the same 422
    ``validation-failed`` problems, located under ``body``.
    """
    raw = await _body(request)
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
        )
    if not _is_json(header(request, b"content-type")):
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "the body must be JSON"}]
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {**error, "loc": ("body", *error["loc"])}
                for error in exc.errors(include_url=False, include_input=False)
            ]
        ) from None


async def _body(request: Request) -> bytes:
    """The whole body, as ``await request.body()`` reads it, without its async generator.

    Starlette's ``Request.body`` collects ``Request.stream``, an async
    generator the event loop registers and finalises: a noticeable share of
    a warm create for one ``http.request`` message. The routes read a body
    once, here, so nothing else needs Starlette's cached copy.
    """
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
