"""The HTTP contract, with the data store replaced by in-memory fakes.

The same rules are exercised against the emulator in tests/integration;
here they run in milliseconds and can reach failure paths (store outages,
bugs) that the emulator does not produce.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any, Dict, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, unit_settings
from tests.fakes import InMemoryRepository, in_memory_idempotency
from todo_api import problems
from todo_api.app import create_app
from todo_api.auth import JwtVerifier
from todo_core.errors import StoreUnavailable

TASKS = "/api/v1/tasks"
RUNBOOK_TASK = {
    "title": "Test Task",
    "description": "This is a test task created via API",
    "priority": "medium",
    "category": "testing",
    "status": "pending",
}


def auth(token: str, **headers: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
def alice(tokens: TokenFactory) -> str:
    return tokens.token(sub="alice")


@pytest.fixture
def bob(tokens: TokenFactory) -> str:
    return tokens.token(sub="bob")


def create(client: TestClient, token: str, **fields: Any) -> Dict[str, Any]:
    response = client.post(TASKS, json={"title": "t", **fields}, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_problem(response: Any, status: int, problem: problems.ProblemType) -> Dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == problems.PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["type"] == problem.uri
    assert body["title"] == problem.title
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


# --- health, docs -------------------------------------------------------------


def test_health_reports_the_package_version_and_stage(unit_client: TestClient) -> None:
    response = unit_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": version("todo-api"),
        "environment": "unit",
    }


def test_docs_and_openapi_are_served(unit_client: TestClient) -> None:
    assert unit_client.get("/openapi.json").json()["info"]["title"] == "Todo API with Insights"
    docs = unit_client.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


# --- create / read ------------------------------------------------------------


def test_create_returns_201_location_and_etag(unit_client: TestClient, alice: str) -> None:
    response = unit_client.post(TASKS, json=RUNBOOK_TASK, headers=auth(alice))
    assert response.status_code == 201
    task = response.json()
    assert response.headers["location"] == f"{TASKS}/{task['task_id']}"
    assert response.headers["etag"] == '"1"'
    assert {k: task[k] for k in RUNBOOK_TASK} == RUNBOOK_TASK
    assert task["version"] == 1
    assert task["completed_at"] is None
    fetched = unit_client.get(response.headers["location"], headers=auth(alice))
    assert fetched.json() == task
    assert fetched.headers["etag"] == '"1"'


def test_create_completed_sets_completed_at(unit_client: TestClient, alice: str) -> None:
    assert create(unit_client, alice, status="completed")["completed_at"] is not None


def test_category_and_title_are_normalised(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice, title="  Buy milk ", category="  Home   Chores ")
    assert (task["title"], task["category"]) == ("Buy milk", "home chores")


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"title": "x", "owner": "someone-else"}, ["body", "owner"]),
        ({"title": ""}, ["body", "title"]),
        ({"title": "   "}, ["body", "title"]),
        ({"title": "x" * 201}, ["body", "title"]),
        ({"title": "x", "description": "d" * 2001}, ["body", "description"]),
        ({"title": "x", "category": "c" * 51}, ["body", "category"]),
        ({"title": "x", "status": "done"}, ["body", "status"]),
        ({"title": "x", "priority": "critical"}, ["body", "priority"]),
        ({"title": "x", "due_date": "31/12/2025"}, ["body", "due_date"]),
        ({"title": "x", "due_date": 1767139200}, ["body", "due_date"]),
        ({"title": "x", "user_id": "bob"}, ["body", "user_id"]),
        ({"title": "x", "version": 7}, ["body", "version"]),
        ({}, ["body", "title"]),
    ],
)
def test_invalid_bodies_are_422_with_field_errors(
    unit_client: TestClient, alice: str, body: Dict[str, Any], location: list
) -> None:
    problem = assert_problem(
        unit_client.post(TASKS, json=body, headers=auth(alice)), 422, problems.VALIDATION_FAILED
    )
    assert location in [error["loc"] for error in problem["errors"]]
    assert all(set(error) == {"loc", "msg", "type"} for error in problem["errors"])


def test_malformed_json_is_422(unit_client: TestClient, alice: str) -> None:
    response = unit_client.post(
        TASKS, content=b'{"title": ', headers=auth(alice, **{"Content-Type": "application/json"})
    )
    assert_problem(response, 422, problems.VALIDATION_FAILED)


def test_bodies_over_64_kib_are_413(unit_client: TestClient, alice: str) -> None:
    big = json.dumps({"title": "x", "description": "d" * 70_000}).encode()
    response = unit_client.post(
        TASKS, content=big, headers=auth(alice, **{"Content-Type": "application/json"})
    )
    assert_problem(response, 413, problems.PAYLOAD_TOO_LARGE)


def test_streamed_bodies_over_the_limit_are_413(unit_client: TestClient, alice: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "x", "description": "'
        for _ in range(80):
            yield b"d" * 1024
        yield b'"}'

    response = unit_client.post(
        TASKS, content=chunks(), headers=auth(alice, **{"Content-Type": "application/json"})
    )
    assert_problem(response, 413, problems.PAYLOAD_TOO_LARGE)


# --- update / delete -------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_partial_update_as_the_runbook_sends_it(
    unit_client: TestClient, alice: str, method: str
) -> None:
    task = create(unit_client, alice, **RUNBOOK_TASK)
    response = unit_client.request(
        method,
        f"{TASKS}/{task['task_id']}",
        json={"status": "in_progress", "priority": "high"},
        headers=auth(alice),
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["status"], updated["priority"], updated["version"]) == (
        "in_progress",
        "high",
        2,
    )
    assert updated["title"] == task["title"]
    assert updated["category"] == "testing"
    assert response.headers["etag"] == '"2"'


def test_completing_and_reopening_moves_completed_at(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice)
    url = f"{TASKS}/{task['task_id']}"
    done = unit_client.patch(url, json={"status": "completed"}, headers=auth(alice)).json()
    assert done["completed_at"] is not None
    reopened = unit_client.patch(url, json={"status": "pending"}, headers=auth(alice)).json()
    assert reopened["completed_at"] is None


def test_null_clears_optional_fields(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice, category="work", description="d", due_date="2030-01-01")
    cleared = unit_client.patch(
        f"{TASKS}/{task['task_id']}",
        json={"category": None, "description": None, "due_date": None},
        headers=auth(alice),
    ).json()
    assert (cleared["category"], cleared["description"], cleared["due_date"]) == (None, None, None)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": None},
        {"status": None},
        {"priority": None},
        {"title": " "},
        {"completed_at": None},
    ],
)
def test_invalid_updates_are_422(unit_client: TestClient, alice: str, body: Dict[str, Any]) -> None:
    task = create(unit_client, alice)
    response = unit_client.patch(f"{TASKS}/{task['task_id']}", json=body, headers=auth(alice))
    assert_problem(response, 422, problems.VALIDATION_FAILED)


def test_delete_is_204_then_404(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice)
    url = f"{TASKS}/{task['task_id']}"
    response = unit_client.delete(url, headers=auth(alice))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(unit_client.get(url, headers=auth(alice)), 404, problems.TASK_NOT_FOUND)
    assert_problem(unit_client.delete(url, headers=auth(alice)), 404, problems.TASK_NOT_FOUND)


def test_other_users_tasks_do_not_exist_for_them(
    unit_client: TestClient, alice: str, bob: str
) -> None:
    task = create(unit_client, alice)
    url = f"{TASKS}/{task['task_id']}"
    for method, body in (
        ("GET", None),
        ("PUT", {"title": "mine"}),
        ("PATCH", {"title": "mine"}),
        ("DELETE", None),
    ):
        response = unit_client.request(method, url, json=body, headers=auth(bob))
        assert_problem(response, 404, problems.TASK_NOT_FOUND)
    assert unit_client.get(url, headers=auth(alice)).json() == task
    assert unit_client.get(TASKS, headers=auth(bob)).json()["items"] == []


# --- If-Match ----------------------------------------------------------------------


def test_if_match_guards_writes(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice)
    url = f"{TASKS}/{task['task_id']}"
    ok = unit_client.patch(url, json={"title": "a"}, headers=auth(alice, **{"If-Match": '"1"'}))
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    stale = unit_client.patch(url, json={"title": "b"}, headers=auth(alice, **{"If-Match": '"1"'}))
    assert_problem(stale, 412, problems.PRECONDITION_FAILED)
    assert_problem(
        unit_client.delete(url, headers=auth(alice, **{"If-Match": '"1"'})),
        412,
        problems.PRECONDITION_FAILED,
    )
    # Weak validators never match strongly.
    weak = unit_client.put(url, json={"title": "c"}, headers=auth(alice, **{"If-Match": 'W/"2"'}))
    assert_problem(weak, 412, problems.PRECONDITION_FAILED)
    listed = unit_client.put(
        url, json={"title": "c"}, headers=auth(alice, **{"If-Match": '"9", "2"'})
    )
    assert listed.status_code == 200
    star = unit_client.put(url, json={"title": "d"}, headers=auth(alice, **{"If-Match": "*"}))
    assert star.status_code == 200
    assert star.json()["version"] == 4
    assert unit_client.delete(url, headers=auth(alice, **{"If-Match": '"4"'})).status_code == 204


def test_malformed_if_match_is_400(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice)
    response = unit_client.patch(
        f"{TASKS}/{task['task_id']}", json={"title": "x"}, headers=auth(alice, **{"If-Match": "1"})
    )
    assert_problem(response, 400, problems.MALFORMED_PRECONDITION)


# --- lists ---------------------------------------------------------------------------


def test_list_filters_and_pagination(unit_client: TestClient, alice: str) -> None:
    a = create(
        unit_client,
        alice,
        status="pending",
        priority="high",
        category="work",
        due_date="2030-01-10",
    )
    b = create(
        unit_client,
        alice,
        status="completed",
        priority="low",
        category="home",
        due_date="2030-01-20",
    )
    c = create(unit_client, alice, status="pending", priority="low", category="Work")

    def ids(query: str) -> list:
        response = unit_client.get(f"{TASKS}?{query}", headers=auth(alice))
        assert response.status_code == 200, response.text
        return [t["task_id"] for t in response.json()["items"]]

    assert ids("status=pending") == [a["task_id"], c["task_id"]]
    assert ids("priority=low") == [b["task_id"], c["task_id"]]
    assert ids("category=WORK") == [a["task_id"], c["task_id"]]
    assert ids("status=pending&category=work") == [a["task_id"], c["task_id"]]
    # Inclusive bounds; undated tasks are excluded by any due filter.
    assert ids("due_after=2030-01-10&due_before=2030-01-20") == [a["task_id"], b["task_id"]]
    assert ids("due_after=2030-01-11") == [b["task_id"]]
    assert ids("due_before=2030-01-10") == [a["task_id"]]

    first = unit_client.get(f"{TASKS}?limit=2", headers=auth(alice)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = unit_client.get(
        f"{TASKS}?limit=2&cursor={first['next_cursor']}", headers=auth(alice)
    ).json()
    assert [t["task_id"] for t in second["items"]] == [c["task_id"]]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=x",
        "status=done",
        "priority=x",
        "due_after=tomorrow",
        "due_after=2030-02-01&due_before=2030-01-01",
    ],
)
def test_invalid_list_queries_are_422(unit_client: TestClient, alice: str, query: str) -> None:
    assert_problem(
        unit_client.get(f"{TASKS}?{query}", headers=auth(alice)), 422, problems.VALIDATION_FAILED
    )


def test_default_page_size_is_20(
    unit_client: TestClient, alice: str, repository: InMemoryRepository
) -> None:
    for n in range(25):
        create(unit_client, alice, title=f"t{n}")
    page = unit_client.get(TASKS, headers=auth(alice)).json()
    assert len(page["items"]) == 20
    assert page["next_cursor"]


def test_invalid_cursor_is_400(unit_client: TestClient, alice: str) -> None:
    response = unit_client.get(f"{TASKS}?cursor=forged", headers=auth(alice))
    assert_problem(response, 400, problems.INVALID_CURSOR)


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", TASKS),
        ("POST", TASKS),
        ("GET", f"{TASKS}/x"),
        ("PUT", f"{TASKS}/x"),
        ("PATCH", f"{TASKS}/x"),
        ("DELETE", f"{TASKS}/x"),
        ("GET", "/api/v1/users/me"),
    ],
)
def test_every_api_route_needs_a_token(unit_client: TestClient, method: str, path: str) -> None:
    response = unit_client.request(method, path, json={"title": "x"})
    assert_problem(response, 401, problems.UNAUTHORIZED)
    assert response.headers["www-authenticate"] == 'Bearer realm="todo-api"'


def test_bad_token_gets_an_invalid_token_challenge(
    unit_client: TestClient, tokens: TokenFactory
) -> None:
    response = unit_client.get(TASKS, headers=auth(tokens.token(aud="someone-else")))
    assert_problem(response, 401, problems.UNAUTHORIZED)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_profile_is_created_from_the_token_and_writes_are_cached(
    unit_client: TestClient, tokens: TokenFactory, repository: InMemoryRepository
) -> None:
    token = tokens.token(
        sub="carol", email="carol@example.com", given_name="Carol", family_name="C"
    )
    me = unit_client.get("/api/v1/users/me", headers=auth(token))
    assert me.status_code == 200
    assert {k: me.json()[k] for k in ("user_id", "email", "given_name", "family_name")} == {
        "user_id": "carol",
        "email": "carol@example.com",
        "given_name": "Carol",
        "family_name": "C",
    }
    for _ in range(5):
        unit_client.get(TASKS, headers=auth(token))
    assert repository.calls.count("record_user_seen") == 1


# --- idempotency ---------------------------------------------------------------------------


def test_same_key_same_request_replays_the_first_response(
    unit_client: TestClient, alice: str, repository: InMemoryRepository
) -> None:
    headers = auth(alice, **{"Idempotency-Key": "task-creation-123"})
    first = unit_client.post(TASKS, json=RUNBOOK_TASK, headers=headers)
    again = unit_client.post(
        TASKS, json=dict(reversed(list(RUNBOOK_TASK.items()))), headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert repository.calls.count("create_task") == 1


def test_same_key_different_request_is_422(unit_client: TestClient, alice: str) -> None:
    headers = auth(alice, **{"Idempotency-Key": "k-1"})
    assert unit_client.post(TASKS, json={"title": "a"}, headers=headers).status_code == 201
    assert_problem(
        unit_client.post(TASKS, json={"title": "b"}, headers=headers),
        422,
        problems.IDEMPOTENCY_KEY_REUSED,
    )


def test_keys_are_scoped_to_the_caller(unit_client: TestClient, alice: str, bob: str) -> None:
    a = unit_client.post(
        TASKS, json={"title": "same"}, headers=auth(alice, **{"Idempotency-Key": "shared"})
    )
    b = unit_client.post(
        TASKS, json={"title": "same"}, headers=auth(bob, **{"Idempotency-Key": "shared"})
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["task_id"] != b.json()["task_id"]
    assert "idempotent-replayed" not in b.headers


@pytest.mark.parametrize(
    "key", ["", " ", "x" * 256, "naïve".encode(), "a b", '"unterminated', "tab\there"]
)
def test_malformed_keys_are_400(unit_client: TestClient, alice: str, key: Any) -> None:
    response = unit_client.post(
        TASKS, json={"title": "a"}, headers=auth(alice, **{"Idempotency-Key": key})
    )
    assert_problem(response, 400, problems.MALFORMED_IDEMPOTENCY_KEY)


def test_quoted_structured_field_keys_are_accepted(unit_client: TestClient, alice: str) -> None:
    key = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'
    first = unit_client.post(
        TASKS, json={"title": "a"}, headers=auth(alice, **{"Idempotency-Key": key})
    )
    bare = unit_client.post(
        TASKS, json={"title": "a"}, headers=auth(alice, **{"Idempotency-Key": key.strip('"')})
    )
    assert first.status_code == 201
    assert bare.headers.get("idempotent-replayed") == "true"


def test_idempotent_update_and_delete_replay(unit_client: TestClient, alice: str) -> None:
    task = create(unit_client, alice)
    url = f"{TASKS}/{task['task_id']}"
    update = auth(alice, **{"Idempotency-Key": "task-update-456"})
    first = unit_client.put(url, json={"status": "in_progress", "priority": "high"}, headers=update)
    again = unit_client.put(url, json={"status": "in_progress", "priority": "high"}, headers=update)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["version"] == first.json()["version"] == 2
    assert_problem(
        unit_client.patch(url, json={"status": "in_progress", "priority": "high"}, headers=update),
        422,
        problems.IDEMPOTENCY_KEY_REUSED,
    )
    delete = auth(alice, **{"Idempotency-Key": "task-delete-789"})
    assert unit_client.delete(url, headers=delete).status_code == 204
    replay = unit_client.delete(url, headers=delete)
    assert replay.status_code == 204
    assert replay.headers["idempotent-replayed"] == "true"


def test_client_errors_decided_by_the_operation_are_replayed(
    unit_client: TestClient, alice: str
) -> None:
    headers = auth(alice, **{"Idempotency-Key": "missing-task"})
    first = unit_client.patch(f"{TASKS}/nope", json={"title": "x"}, headers=headers)
    again = unit_client.patch(f"{TASKS}/nope", json={"title": "x"}, headers=headers)
    assert first.status_code == again.status_code == 404
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == problems.PROBLEM_CONTENT_TYPE


def test_a_server_error_leaves_no_record_so_the_retry_runs(
    tokens: TokenFactory, verifier: JwtVerifier
) -> None:
    class FlakyRepository(InMemoryRepository):
        failures = 1

        def create_task(self, task: Any, claim: Any = None) -> Any:
            if self.failures:
                self.failures -= 1
                raise StoreUnavailable("throttled", retry_after_seconds=2)
            return super().create_task(task, claim)

    repository = FlakyRepository()
    app = create_app(
        unit_settings(),
        tasks=repository,
        profiles=repository,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    client = TestClient(app, raise_server_exceptions=False)
    headers = auth(tokens.token(sub="dave"), **{"Idempotency-Key": "retry-me"})
    failed = client.post(TASKS, json={"title": "a"}, headers=headers)
    assert_problem(failed, 503, problems.SERVICE_UNAVAILABLE)
    assert failed.headers["retry-after"] == "2"
    retried = client.post(TASKS, json={"title": "a"}, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert len(repository.tasks) == 1


# --- errors, correlation, logs -----------------------------------------------------------


def test_unknown_route_and_method_are_problems(unit_client: TestClient) -> None:
    assert_problem(unit_client.get("/nope"), 404, problems.NOT_FOUND)
    assert_problem(unit_client.delete("/health"), 405, problems.METHOD_NOT_ALLOWED)


def test_a_bug_is_a_500_problem_without_a_stack_trace(
    tokens: TokenFactory, verifier: JwtVerifier, capfd: Any
) -> None:
    class Broken(InMemoryRepository):
        def list_tasks(self, *args: Any, **kwargs: Any) -> Any:
            raise KeyError("secret internals")

    broken = Broken()
    app = create_app(
        unit_settings(),
        tasks=broken,
        profiles=broken,
        idempotency=in_memory_idempotency(),
        verifier=verifier,
    )
    response = TestClient(app, raise_server_exceptions=False).get(
        TASKS, headers=auth(tokens.token())
    )
    body = assert_problem(response, 500, problems.INTERNAL_ERROR)
    assert "secret internals" not in response.text
    assert "detail" not in body
    logged = capfd.readouterr().out
    assert "secret internals" in logged
    assert "Traceback" in logged


def test_request_id_is_echoed_and_logged(unit_client: TestClient, alice: str, capfd: Any) -> None:
    capfd.readouterr()
    response = unit_client.get(TASKS, headers=auth(alice, **{"X-Request-ID": "req-123"}))
    assert response.headers["x-request-id"] == "req-123"
    lines = [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")
    ]
    record = next(r for r in lines if r.get("message") == "request completed")
    assert record["correlation_id"] == "req-123"
    assert record["user_id"] == "alice"
    assert record["component"] == "lambda-sync"
    assert record["operation"] == "query-tasks"
    assert record["status"] == "success"
    assert record["http_status"] == 200
    assert isinstance(record["duration_ms"], float)
    assert record["level"] == "INFO"
    assert record["service"] == "todo-api"
    assert record["metadata"]["table_name"] == "unit-table"


def test_generated_request_id_when_the_header_is_unusable(unit_client: TestClient) -> None:
    response = unit_client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["x-request-id"] != "bad id with spaces"
    assert len(response.headers["x-request-id"]) == 32
