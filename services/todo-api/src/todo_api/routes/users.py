"""``/api/v1/users/me``: the caller's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo_api import problems
from todo_api.deps import container, current_principal
from todo_api.openapi_docs import returns
from todo_api.responses import json_response
from todo_api.routing import DirectRoute
from todo_api.schemas import UserOut, user_json

router = APIRouter(route_class=DirectRoute)


@router.get(
    "/api/v1/users/me",
    tags=["users"],
    operation_id="get_current_user",
    responses={**returns(UserOut), **problems.openapi_responses(401, 503)},
)
async def get_me(request: Request) -> Response:
    """The caller's profile, created from the token's claims on first use."""
    principal = await current_principal(request)
    c = container(request)
    user = await c.call(c.service.profile, principal)
    return json_response(user_json(user))
