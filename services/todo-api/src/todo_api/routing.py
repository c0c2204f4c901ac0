"""The route class of every API route: FastAPI's declaration, a direct call.

The routes read their own inputs (the caller, headers, body and list
filters: see :mod:`todo_api.deps`) and return a finished ``Response``, so
FastAPI's per-request machinery has nothing to do for them but still runs:
the dependency solver, two exit stacks for dependencies with ``yield``, a
second exception-handling wrapper (the app's exception middleware already
has one), telemetry bookkeeping. That was about a tenth of a warm request.

A :class:`DirectRoute` is declared exactly like an ``APIRoute`` (same
decorator arguments, same OpenAPI document, same 405 for a wrong method),
but answers by calling the endpoint with the request and its validated path
parameters. The path parameters are validated by FastAPI's own function,
with the route's own fields, so a bad ``task_id`` is the same 422 as
before. Errors propagate to the app's exception handlers, which render them
as problem+json exactly as before.

The class refuses, when the route is declared, any endpoint this direct
call would get wrong (dependencies, query/header/cookie/body parameters, a
sync endpoint, a body size limit), so a future route cannot silently lose a
FastAPI feature.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import Receive, Scope, Send


class DirectRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        _check_direct(self)
        self.app = self._direct

    async def _direct(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        path_fields = self.dependant.path_params
        if path_fields:
            values, errors = request_params_to_args(path_fields, scope["path_params"])
            if errors:
                raise RequestValidationError(errors)
            response = await self.endpoint(request, **values)
        else:
            response = await self.endpoint(request)
        await response(scope, receive, send)


def _check_direct(route: APIRoute) -> None:
    dependant = route.dependant
    unsupported = [
        name
        for name, present in (
            ("dependencies", dependant.dependencies),
            ("query parameters", dependant.query_params),
            ("header parameters", dependant.header_params),
            ("cookie parameters", dependant.cookie_params),
            ("body parameters", dependant.body_params),
            ("a body size limit", route.max_body_size is not None),
            ("a sync endpoint", not inspect.iscoroutinefunction(route.endpoint)),
        )
        if present
    ]
    if dependant.request_param_name is None:
        unsupported.append("no Request parameter")
    else:
        # The request goes in first, by position; path parameters by name.
        first = next(iter(inspect.signature(route.endpoint).parameters), None)
        if first != dependant.request_param_name:
            unsupported.append("the Request not first")
    for special in (
        "websocket",
        "http_connection",
        "response",
        "background_tasks",
        "security_scopes",
    ):
        if getattr(dependant, f"{special}_param_name") is not None:
            unsupported.append(f"a {special} parameter")
    if unsupported:
        raise TypeError(
            f"{route.path} ({route.name}): a DirectRoute endpoint takes the Request first, "
            f"then path parameters only; this one has {', '.join(unsupported)}"
        )
