"""Per-request dependencies: the container, the caller, and the write headers."""

from __future__ import annotations

from typing import Optional

from fastapi import Request

from todo_api import problems
from todo_api.auth import Principal
from todo_api.container import Container
from todo_api.idempotency import MalformedIdempotencyKey, parse_idempotency_key
from todo_api.middleware import USER_ID
from todo_api.preconditions import IfMatch, MalformedIfMatch, parse_if_match


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


async def current_principal(request: Request) -> Principal:
    """The authenticated caller (401 otherwise)."""
    c = container(request)
    principal = await c.call(
        c.authenticate, request.headers.get("authorization"), request.scope.get("aws.event")
    )
    request.scope[USER_ID] = principal.user_id
    return principal


def idempotency_key(request: Request) -> Optional[str]:
    try:
        return parse_idempotency_key(request.headers.get("idempotency-key"))
    except MalformedIdempotencyKey as exc:
        raise problems.ProblemError(problems.MALFORMED_IDEMPOTENCY_KEY, str(exc)) from exc


def if_match(request: Request) -> Optional[IfMatch]:
    try:
        return parse_if_match(request.headers.get("if-match"))
    except MalformedIfMatch as exc:
        raise problems.ProblemError(problems.MALFORMED_PRECONDITION, str(exc)) from exc
