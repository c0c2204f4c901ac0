"""One place for HTTP: the service speaks the domain, http_errors maps it, once."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, Iterator, Set

import pytest
from fastapi.testclient import TestClient

import todo_core.errors
import todo_core.ports
from tests.conftest import TokenFactory, unit_settings
from tests.fakes import InMemoryRepository, in_memory_idempotency
from todo_api import http_errors, problems
from todo_api.app import create_app
from todo_api.auth import JwtVerifier

SRC = Path(__file__).resolve().parents[2] / "src" / "todo_api"
TASKS = "/api/v1/tasks"


def _imports(path: Path) -> Set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_service_layer_knows_nothing_of_http() -> None:
    imported = _imports(SRC / "service.py")
    assert not {m for m in imported if m.split(".")[0] in ("fastapi", "starlette")}
    assert "todo_api.problems" not in imported
    assert "todo_api.http_errors" not in imported


def test_every_domain_error_has_exactly_one_http_mapping() -> None:
    domain = {
        cls
        for module in (todo_core.errors, todo_core.ports)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, todo_core.errors.TodoError) and cls is not todo_core.errors.TodoError
    }
    # TaskAlreadyCreated never leaves the service (it becomes a replay or a 422).
    domain.discard(todo_core.ports.TaskAlreadyCreated)
    for cls in domain:
        assert cls in http_errors.HANDLED, cls
        assert http_errors.HANDLED.count(cls) == 1


def test_no_route_or_service_builds_a_problem_body() -> None:
    for path in [SRC / "service.py", *sorted((SRC / "routes").glob("*.py"))]:
        assert "problem_body" not in path.read_text(encoding="utf-8"), path


# --- the per-user quota ------------------------------------------------------------


@pytest.fixture
def small_quota(verifier: JwtVerifier) -> Iterator[TestClient]:
    store = InMemoryRepository(task_quota=2)
    app = create_app(
        unit_settings(),
        tasks=store,
        profiles=store,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_creates_past_the_quota_are_403_and_write_nothing(
    small_quota: TestClient, tokens: TokenFactory
) -> None:
    headers: Dict[str, str] = {"Authorization": f"Bearer {tokens.token(sub='quota')}"}
    ids = [small_quota.post(TASKS, json={"title": f"t{i}"}, headers=headers) for i in range(2)]
    assert [r.status_code for r in ids] == [201, 201]
    keyed = {**headers, "Idempotency-Key": "third"}
    refused = small_quota.post(TASKS, json={"title": "t3"}, headers=keyed)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == problems.PROBLEM_CONTENT_TYPE
    assert refused.json()["type"] == problems.TASK_QUOTA_EXCEEDED.uri
    assert len(small_quota.get(TASKS, headers=headers).json()["items"]) == 2
    # Nothing was stored under the key: once there is room, the same request runs.
    first = ids[0].json()["task_id"]
    assert small_quota.delete(f"{TASKS}/{first}", headers=headers).status_code == 204
    retried = small_quota.post(TASKS, json={"title": "t3"}, headers=keyed)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
