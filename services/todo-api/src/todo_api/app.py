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
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from todo_api import http_errors, package_version, problems
from todo_api.auth import JwtVerifier
from todo_api.container import Container
from todo_api.idempotency import Idempotency
from todo_api.middleware import REQUEST_ID, RequestContextMiddleware
from todo_api.observability import logger
from todo_api.responses import problem_response
from todo_api.routes import ROUTERS
from todo_api.routes.tasks import BODY_MODELS
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


_HEADER_DOCS = {
    "ETag": {
        "description": "the task's version as a strong entity tag",
        "schema": {"type": "string"},
    },
    "Location": {"description": "URL of the created task", "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}},
    "WWW-Authenticate": {
        "description": "the Bearer challenge (RFC 6750)",
        "schema": {"type": "string"},
    },
}


def _finish_openapi(schema: Dict[str, Any]) -> Dict[str, Any]:
    """Problem+json for every error, bearer auth for /api, documented headers."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID token (as the operations runbook sends) or access token",
    }
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if path.startswith("/api/"):
                operation["security"] = [{"bearerAuth": []}]
            for status, response in operation.get("responses", {}).items():
                code = int(status) if str(status).isdigit() else 0
                if code >= 400:
                    response["content"] = {problems.PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}
                if code == 401:
                    response["headers"] = {"WWW-Authenticate": _HEADER_DOCS["WWW-Authenticate"]}
                elif code in (409, 503):
                    response["headers"] = {"Retry-After": _HEADER_DOCS["Retry-After"]}
                elif code == 201:
                    response["headers"] = {
                        "ETag": _HEADER_DOCS["ETag"],
                        "Location": _HEADER_DOCS["Location"],
                    }
                elif code == 200 and "TaskOut" in str(response.get("content", "")):
                    response["headers"] = {"ETag": _HEADER_DOCS["ETag"]}
    schemas = components.setdefault("schemas", {})
    # Request bodies are parsed by the routes (see deps.json_body), so their
    # models are added here, as FastAPI would have.
    _, definitions = models_json_schema(
        [(model, "validation") for model in BODY_MODELS],
        ref_template="#/components/schemas/{model}",
    )
    for name, definition in definitions.get("$defs", {}).items():
        for field in definition.get("properties", {}).values():
            # FastAPI leaves out a null default (absent means null already).
            if "default" in field and field["default"] is None:
                del field["default"]
        schemas.setdefault(name, definition)
    text = str(schema.get("paths"))
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f"/{unused}'" not in text:
            del schemas[unused]
    return schema


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
    for router in ROUTERS:
        app.include_router(router)
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
            app.openapi_schema = _finish_openapi(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
