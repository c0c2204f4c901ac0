"""HTTP routes, one module per resource.

Routes are ``async def``: under Lambda (Mangum) they run inline, one request
per container, with no thread hop; under uvicorn the container's ``call``
moves the blocking AWS calls to a worker thread (see ``Settings.blocking_io``
and the README's measurements). Headers and list filters are read by the
routes themselves (one pydantic call) rather than declared one by one as
FastAPI parameters, which were the largest share of the warm per-request
cost; they are documented through ``openapi_extra`` and, for what needs a
model's schema, by ``todo_api.openapi_docs`` when the document is built.
"""

from __future__ import annotations

from fastapi import APIRouter

from todo_api.routes import health, tasks, users

#: Their routes are added to the app's own router (``create_app``): an
#: included router costs a matching pass of its own per request.
ROUTERS: tuple[APIRouter, ...] = (tasks.router, users.router, health.router)
