"""DirectRoute answers as FastAPI's APIRoute would; the routes' own input readers too."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional

import pytest
from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.conftest import TokenFactory, unit_settings
from tests.fakes import InMemoryRepository, in_memory_idempotency
from todo_api import problems
from todo_api.app import create_app
from todo_api.auth import JwtVerifier
from todo_api.routes import ROUTERS
from todo_api.routing import DirectRoute

TASKS = "/api/v1/tasks"


def _app(route_class: type) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.get("/items/{item_id}")
    async def get_item(
        request: Request, item_id: str = Path(..., min_length=1, max_length=8)
    ) -> Response:
        return Response(f"{request.method} {item_id}")

    @router.post("/items")
    async def post_item(request: Request) -> Response:
        return Response(await request.body(), status_code=201)

    app = FastAPI()
    app.router.routes.extend(router.routes)
    return app


DIRECT = TestClient(_app(DirectRoute))
FASTAPI = TestClient(_app(APIRoute))


def _same(method: str, path: str, **kwargs: Any) -> Any:
    direct = DIRECT.request(method, path, **kwargs)
    plain = FASTAPI.request(method, path, **kwargs)
    assert (direct.status_code, direct.content) == (plain.status_code, plain.content)
    assert direct.headers.get("allow") == plain.headers.get("allow")
    return direct


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        alphabet=st.characters(
            codec="utf-8", categories=("L", "N", "P", "S"), exclude_characters="/?#%\\."
        ),
        min_size=1,
        max_size=12,
    )
)
def test_path_parameters_are_validated_as_fastapi_does(item_id: str) -> None:
    _same("GET", f"/items/{item_id}")


def test_a_too_long_path_parameter_is_fastapis_422_and_a_wrong_method_its_405() -> None:
    assert _same("GET", "/items/123456789").status_code == 422
    assert _same("DELETE", "/items/1").status_code == 405
    assert _same("POST", "/items", content=b"raw").status_code == 201


def _refused(endpoint: Any, **options: Any) -> str:
    router = APIRouter(route_class=DirectRoute)
    with pytest.raises(TypeError) as refused:
        router.add_api_route("/x/{item_id}", endpoint, **options)
    return str(refused.value)


class Body(BaseModel):
    name: str


def test_endpoints_a_direct_call_would_get_wrong_are_refused_when_declared() -> None:
    async def with_query(request: Request, item_id: str, q: Optional[str] = None) -> Response:
        raise AssertionError

    async def with_body(request: Request, item_id: str, body: Body) -> Response:
        raise AssertionError

    async def with_dependency(
        request: Request, item_id: str, other: str = Depends(lambda: "x")
    ) -> Response:
        raise AssertionError

    async def request_last(item_id: str, request: Request) -> Response:
        raise AssertionError

    async def no_request(item_id: str) -> Response:
        raise AssertionError

    def sync(request: Request, item_id: str) -> Response:
        raise AssertionError

    async def fine(request: Request, item_id: str) -> Response:
        raise AssertionError

    assert "query parameters" in _refused(with_query)
    assert "body parameters" in _refused(with_body)
    assert "dependencies" in _refused(with_dependency)
    assert "the Request not first" in _refused(request_last)
    assert "no Request parameter" in _refused(no_request)
    assert "a sync endpoint" in _refused(sync)
    assert "body size limit" in _refused(fine, max_body_size=10)
    DirectRoute("/x/{item_id}", fine)  # what the routes are


def test_every_api_route_is_direct_and_on_the_apps_own_router() -> None:
    # A route left as a plain APIRoute, or a router included as a group,
    # would silently pay FastAPI's per-request resolution again.
    app = create_app(unit_settings(), tasks=InMemoryRepository(), profiles=InMemoryRepository())
    declared = [route for router in ROUTERS for route in router.routes]
    assert declared
    assert all(isinstance(route, DirectRoute) for route in declared)
    assert all(route in app.router.routes for route in declared)
    assert not [r for r in app.router.routes if isinstance(r, APIRoute) and r not in declared]


def test_a_task_id_out_of_bounds_is_a_validation_problem_at_the_path(
    unit_client: TestClient, tokens: TokenFactory
) -> None:
    response = unit_client.get(
        f"{TASKS}/{'x' * 129}", headers={"Authorization": f"Bearer {tokens.token()}"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == problems.PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["type"] == problems.VALIDATION_FAILED.uri
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["path", "task_id"], "string_too_long")
    ]


def _asgi(
    app: Any, method: str, path: str, headers: List[tuple], chunks: List[bytes]
) -> Dict[str, Any]:
    """One request straight through ASGI, the body in ``chunks`` messages."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {"status": start["status"], "headers": dict(start["headers"]), "body": body}


def test_a_body_in_several_messages_and_repeated_headers_are_read_as_starlette_reads_them(
    verifier: JwtVerifier, tokens: TokenFactory
) -> None:
    app = create_app(
        unit_settings(),
        tasks=InMemoryRepository(),
        profiles=InMemoryRepository(),
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    token = tokens.token()
    body = json.dumps({"title": "Chunked", "description": "in three parts"}).encode()
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        # The first of repeated headers counts, as with request.headers.get().
        (b"authorization", b"Bearer not-a-token"),
        (b"content-type", b"application/json"),
        (b"idempotency-key", b"chunked-1"),
    ]
    created = _asgi(app, "POST", TASKS, headers, [body[:5], body[5:20], body[20:]])
    assert created["status"] == 201, created
    assert json.loads(created["body"])["title"] == "Chunked"
    replayed = _asgi(app, "POST", TASKS, headers, [body])
    assert replayed["status"] == 201
    assert replayed["headers"][b"idempotent-replayed"] == b"true"
    not_json = _asgi(app, "POST", TASKS, [*headers[:1], (b"content-type", b"text/plain")], [body])
    assert not_json["status"] == 422
