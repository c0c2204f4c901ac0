"""``/health``: liveness, no authentication, no AWS calls."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from todo_api import package_version
from todo_api.deps import container
from todo_api.openapi_docs import returns
from todo_api.responses import json_response
from todo_api.routing import DirectRoute
from todo_api.schemas import Health

router = APIRouter(route_class=DirectRoute)


@router.get("/health", responses=returns(Health), tags=["health"], operation_id="health")
async def health(request: Request) -> Response:
    """Liveness: no authentication, no AWS calls."""
    stage = container(request).settings.stage
    return json_response({"status": "ok", "version": package_version(), "environment": stage})
