"""The OpenAPI document's own parts: what FastAPI cannot derive from the routes.

Responses are rendered by the routes themselves (``todo_api.responses``), so
their models only document them. They are referenced by name in the route
declarations (:func:`returns`) and their schemas are added here, when the
document is first asked for: a ``response_model`` or a response ``model``
makes FastAPI build a validator per route at import, which a Lambda pays on
every cold start for a document most containers never serve.
"""

from __future__ import annotations

from typing import Any, Dict, Type

from pydantic import BaseModel

JSON = "application/json"

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


def returns(model: Type[BaseModel], status: int = 200) -> Dict[int | str, Dict[str, Any]]:
    """The success response of a route, as ``response_model=model`` would document it."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {status: {"content": {JSON: {"schema": schema}}}}


def _operations(schema: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for operations in schema.get("paths", {}).values()
        for operation in operations.values()
        if "operationId" in operation
    }


def _drop_null_default(schema: Dict[str, Any]) -> None:
    # FastAPI leaves out a null default (absent means null already).
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def finish_openapi(schema: Dict[str, Any]) -> Dict[str, Any]:
    """Problem+json for every error, bearer auth for /api, documented headers and models."""
    from pydantic.json_schema import models_json_schema

    from todo_api import problems
    from todo_api.routes.tasks import BODY_MODELS
    from todo_api.schemas import Health, ListQuery, TaskOut, TaskPage, UserOut

    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID token (as the operations runbook sends) or access token",
    }
    # The list filters are read by the route itself (one pydantic call).
    listing = _operations(schema).get("list_tasks")
    if listing is not None:
        parameters = ListQuery.openapi_parameters()
        for parameter in parameters:
            _drop_null_default(parameter["schema"])
        listing["parameters"] = listing.get("parameters", []) + parameters
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
    # Request bodies are parsed by the routes (see deps.json_body) and
    # responses rendered by them: their models are added here, as FastAPI
    # would have (bodies as validated, responses as serialized).
    responses = (TaskOut, TaskPage, UserOut, Health, problems.Problem)
    _, definitions = models_json_schema(
        [(model, "validation") for model in BODY_MODELS]
        + [(model, "serialization") for model in responses],
        ref_template="#/components/schemas/{model}",
    )
    for name, definition in definitions.get("$defs", {}).items():
        for field in definition.get("properties", {}).values():
            _drop_null_default(field)
        schemas.setdefault(name, definition)
    text = str(schema.get("paths"))
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f"/{unused}'" not in text:
            del schemas[unused]
    return schema
