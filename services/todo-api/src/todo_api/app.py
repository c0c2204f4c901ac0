"""The FastAPI application: routes, error rendering, OpenAPI document.

``create_app()`` is the only way an app is made (Lambda handler, uvicorn,
tests, benchmarks), so they all serve the same thing. Every error leaves as
RFC 9457 problem+json (see :mod:`todo_api.problems`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from todo_api import http_errors, package_version, problems
from todo_api.auth import JwtVerifier
from todo_api.container import Container
from todo_api.idempotency import Idempotency
from todo_api.middleware import REQUEST_ID, RequestContextMiddleware
from todo_api.observability import logger
from todo_api.responses import problem_response
from todo_api.routes import ROUTERS
from todo_api.settings import Settings, load_settings
from todo_core.ports import ProfileStore, TaskStore

TITLE = "Todo API with Insights"
DESCRIPTION = """\
Tasks for authenticated users (Amazon Cognito bearer tokens: ID or access token).

* Writes accept an `Idempotency-Key` header (24-hour window) and task writes
  accept `If-Match` with the task's `ETag`.
* Every error is `application/problem+json` (RFC 9457) with a stable `type`.
"""


def _validation_errors(exc: RequestValidationError) -> List[Dict[str, Any]]:
    # Only location, message and type: echoing "input" could reflect a large
    # or sensitive value, and "ctx" may hold exception objects.
    return [
        {
            "loc": list(error.get("loc", ())),
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]


def _install_error_handlers(app: FastAPI) -> None:
    async def mapped_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, http_errors.UNAVAILABLE):
            logger.warning(
                "dependency unavailable",
                extra={"error": str(exc), "request_id": request.scope.get(REQUEST_ID)},
            )
        return problem_response(request, http_errors.http_error(exc))

    async def problem_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, problems.ProblemError)
        error = http_errors.HttpError(exc.problem, exc.detail, exc.headers)
        return problem_response(request, error, errors=exc.errors)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        error = http_errors.HttpError(
            problems.VALIDATION_FAILED, "see errors for the fields that are not valid", {}
        )
        return problem_response(request, error, errors=_validation_errors(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        error = http_errors.HttpError(
            problems.for_status(exc.status_code), detail, dict(exc.headers or {})
        )
        return problem_response(request, error)

    app.add_exception_handler(problems.ProblemError, problem_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for kind in http_errors.HANDLED:
        app.add_exception_handler(kind, mapped_error)


def create_app(
    settings: Optional[Settings] = None,
    *,
    tasks: Optional[TaskStore] = None,
    profiles: Optional[ProfileStore] = None,
    idempotency: Optional[Idempotency] = None,
    verifier: Optional[JwtVerifier] = None,
) -> FastAPI:
    """The app; ``settings`` default to the environment's (ConfigurationError if invalid)."""
    settings = settings or load_settings()
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=package_version(),
        # The document's own URLs stay relative to the stage prefix (see middleware).
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.container = Container(
        settings, tasks=tasks, profiles=profiles, idempotency=idempotency, verifier=verifier
    )
    # The routes themselves, not the routers: FastAPI matches an included
    # router as a group on every request (twice: to pick it, then inside it).
    for router in ROUTERS:
        app.router.routes.extend(router.routes)
    _install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        base_path=settings.api_base_path,
        table_name=settings.table_name,
    )

    default_openapi = app.openapi

    def openapi() -> Dict[str, Any]:
        if app.openapi_schema is None:
            from todo_api.openapi_docs import finish_openapi

            app.openapi_schema = finish_openapi(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
