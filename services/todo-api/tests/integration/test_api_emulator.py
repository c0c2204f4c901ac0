"""Every rule through the real app and repository against the emulator, with
real Cognito tokens (two users) from the emulator's user pool."""

from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import CognitoUser, emulator_settings, new_user
from todo_api import problems
from todo_api.app import create_app
from todo_api.idempotency import record_id
from todo_core import keys
from todo_local.cognito import authenticate
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration
TASKS = "/api/v1/tasks"


def create(api: TestClient, user: CognitoUser, **fields: Any) -> Dict[str, Any]:
    response = api.post(TASKS, json={"title": "t", **fields}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def ids(api: TestClient, user: CognitoUser, query: str = "") -> List[str]:
    found: List[str] = []
    cursor = None
    while True:
        url = f"{TASKS}?limit=100" + (f"&{query}" if query else "")
        url += f"&cursor={cursor}" if cursor else ""
        response = api.get(url, headers=user.headers)
        assert response.status_code == 200, response.text
        found += [t["task_id"] for t in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if not cursor:
            return found


def idempotency_item(stack: LocalStack, user_id: str, key: str) -> Any:
    item_key = {k: {"S": v} for k, v in keys.idempotency_key(record_id(user_id, key)).items()}
    return (
        stack.client("dynamodb")
        .get_item(TableName=stack.names.table, Key=item_key, ConsistentRead=True)
        .get("Item")
    )


def test_runbook_flow_and_profile(
    api: TestClient, local_stack: LocalStack, carol: CognitoUser
) -> None:
    created = api.post(
        TASKS,
        json={
            "title": "Test Task",
            "description": "This is a test task created via API",
            "priority": "medium",
            "category": "testing",
            "status": "pending",
        },
        headers=carol.with_headers(**{"Idempotency-Key": "task-creation-123"}),
    )
    assert created.status_code == 201
    task = created.json()
    assert ids(api, carol) == [task["task_id"]]
    assert ids(api, carol, "status=pending") == [task["task_id"]]
    updated = api.put(
        f"{TASKS}/{task['task_id']}",
        json={"status": "in_progress", "priority": "high"},
        headers=carol.with_headers(**{"Idempotency-Key": "task-update-456"}),
    )
    assert updated.status_code == 200
    assert updated.json()["status"] == "in_progress"
    assert ids(api, carol, "status=pending") == []
    assert ids(api, carol, "status=in_progress") == [task["task_id"]]

    me = api.get("/api/v1/users/me", headers=carol.headers).json()
    assert me["email"] == carol.email
    profile = local_stack.client("dynamodb").get_item(
        TableName=local_stack.names.table,
        Key={k: {"S": v} for k, v in keys.user_key(me["user_id"]).items()},
    )["Item"]
    assert profile["email"]["S"] == carol.email


def test_access_tokens_work_too(api: TestClient, carol: CognitoUser) -> None:
    response = api.get(TASKS, headers={"Authorization": f"Bearer {carol.tokens.access_token}"})
    assert response.status_code == 200


def test_tokens_of_another_app_client_are_refused(
    api: TestClient, local_stack: LocalStack, carol: CognitoUser
) -> None:
    cognito = local_stack.client("cognito-idp")
    other = cognito.create_user_pool_client(
        UserPoolId=local_stack.user_pool_id,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    tokens = authenticate(cognito, local_stack.user_pool_id, other, carol.email)
    for token in (tokens.id_token, tokens.access_token):
        response = api.get(TASKS, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert "another client" in response.json()["detail"]


def test_filters_each_served_by_a_query(api: TestClient, carol: CognitoUser) -> None:
    a = create(
        api, carol, status="pending", priority="high", category="work", due_date="2031-03-01"
    )
    b = create(
        api, carol, status="completed", priority="high", category="home", due_date="2031-03-15"
    )
    c = create(api, carol, status="pending", priority="low", category="work")
    d = create(api, carol, status="in_progress", priority="urgent", due_date="2031-04-01")
    a, b, c, d = (t["task_id"] for t in (a, b, c, d))
    assert ids(api, carol) == [a, b, c, d]
    assert ids(api, carol, "status=pending") == [a, c]
    assert ids(api, carol, "priority=high") == [a, b]
    assert ids(api, carol, "category=Work") == [a, c]
    assert ids(api, carol, "status=pending&category=work") == [a, c]
    assert ids(api, carol, "status=pending&priority=low") == [c]
    assert ids(api, carol, "category=work&priority=high") == [a]
    assert ids(api, carol, "due_after=2031-03-01&due_before=2031-03-15") == [a, b]
    assert ids(api, carol, "due_before=2031-03-31") == [a, b]
    assert ids(api, carol, "due_after=2031-03-02") == [b, d]
    assert ids(api, carol, "priority=high&due_after=2031-03-02") == [b]
    assert ids(api, carol, "status=pending&due_before=2031-12-31") == [a]


def test_pagination_walks_every_task_once(
    api: TestClient, carol: CognitoUser, bob: CognitoUser
) -> None:
    made = [create(api, carol, title=f"t{n}")["task_id"] for n in range(7)]
    first = api.get(f"{TASKS}?limit=3", headers=carol.headers).json()
    assert [t["task_id"] for t in first["items"]] == made[:3]
    second = api.get(f"{TASKS}?limit=3&cursor={first['next_cursor']}", headers=carol.headers).json()
    assert [t["task_id"] for t in second["items"]] == made[3:6]
    # A cursor is bound to its user and query.
    stolen = api.get(f"{TASKS}?limit=3&cursor={first['next_cursor']}", headers=bob.headers)
    assert stolen.status_code == 400
    assert stolen.json()["type"] == problems.INVALID_CURSOR.uri
    other_query = api.get(
        f"{TASKS}?limit=3&status=pending&cursor={first['next_cursor']}", headers=carol.headers
    )
    assert other_query.status_code == 400
    assert ids(api, carol) == made


def test_other_users_tasks_are_404_everywhere(
    api: TestClient, alice: CognitoUser, bob: CognitoUser
) -> None:
    task = create(api, alice, title="alice's")
    url = f"{TASKS}/{task['task_id']}"
    for method, body in (
        ("GET", None),
        ("PUT", {"title": "bob's"}),
        ("PATCH", {"status": "completed"}),
        ("DELETE", None),
    ):
        response = api.request(method, url, json=body, headers=bob.headers)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["type"] == problems.TASK_NOT_FOUND.uri
        response = api.request(
            method, url, json=body, headers=bob.with_headers(**{"If-Match": '"1"'})
        )
        assert response.status_code == 404, method
    assert api.get(url, headers=alice.headers).json() == task
    assert task["task_id"] not in ids(api, bob)


def test_if_match_and_etags(api: TestClient, carol: CognitoUser) -> None:
    task = create(api, carol)
    url = f"{TASKS}/{task['task_id']}"
    assert api.get(url, headers=carol.headers).headers["etag"] == '"1"'
    ok = api.patch(url, json={"title": "v2"}, headers=carol.with_headers(**{"If-Match": '"1"'}))
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    stale = api.put(url, json={"title": "lost"}, headers=carol.with_headers(**{"If-Match": '"1"'}))
    assert stale.status_code == 412
    assert stale.json()["type"] == problems.PRECONDITION_FAILED.uri
    assert api.delete(url, headers=carol.with_headers(**{"If-Match": '"1"'})).status_code == 412
    assert api.get(url, headers=carol.headers).json()["title"] == "v2"
    assert api.delete(url, headers=carol.with_headers(**{"If-Match": '"2"'})).status_code == 204


def test_idempotency_replay_and_misuse(
    api: TestClient, local_stack: LocalStack, carol: CognitoUser
) -> None:
    headers = carol.with_headers(**{"Idempotency-Key": "create-once"})
    first = api.post(TASKS, json={"title": "once"}, headers=headers)
    replay = api.post(TASKS, json={"title": "once"}, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert ids(api, carol) == [first.json()["task_id"]]
    misuse = api.post(TASKS, json={"title": "twice"}, headers=headers)
    assert misuse.status_code == 422
    assert misuse.json()["type"] == problems.IDEMPOTENCY_KEY_REUSED.uri
    assert (
        api.post(
            TASKS, json={"title": "x"}, headers=carol.with_headers(**{"Idempotency-Key": "bad key"})
        ).status_code
        == 400
    )

    user_id = api.get("/api/v1/users/me", headers=carol.headers).json()["user_id"]
    item = idempotency_item(local_stack, user_id, "create-once")
    assert item["idempotency_status"]["S"] == "COMPLETED"
    ttl = int(item[keys.TTL_ATTRIBUTE]["N"])
    assert abs(ttl - (time.time() + 86400)) < 120  # the 24-hour window, as DynamoDB TTL


def test_same_key_for_two_users_never_collides(
    api: TestClient, alice: CognitoUser, bob: CognitoUser
) -> None:
    key = {"Idempotency-Key": "shared-key-across-users"}
    a = api.post(TASKS, json={"title": "same"}, headers=alice.with_headers(**key))
    b = api.post(TASKS, json={"title": "same"}, headers=bob.with_headers(**key))
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["task_id"] != b.json()["task_id"]
    assert "idempotent-replayed" not in b.headers


def test_a_5xx_leaves_no_record_and_the_retry_runs(
    local_stack: LocalStack, carol: CognitoUser
) -> None:
    app = create_app(emulator_settings(local_stack))
    client = app.state.container.client
    throttled = {"left": 1}

    def throttle(**kwargs: Any) -> Any:
        # A botocore hook answering for DynamoDB: the task write is throttled
        # (after botocore's own retries), as it can be in AWS.
        if throttled["left"]:
            throttled["left"] -= 1
            raise client.exceptions.ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "TransactWriteItems",
            )
        return None

    with TestClient(app, raise_server_exceptions=False) as api:
        user_id = api.get("/api/v1/users/me", headers=carol.headers).json()["user_id"]
        client.meta.events.register("before-call.dynamodb.TransactWriteItems", throttle)
        headers = carol.with_headers(**{"Idempotency-Key": "retry-after-5xx"})
        failed = api.post(TASKS, json={"title": "x"}, headers=headers)
        assert failed.status_code == 503
        assert "retry-after" in failed.headers
        assert failed.json()["type"] == problems.SERVICE_UNAVAILABLE.uri
        assert idempotency_item(local_stack, user_id, "retry-after-5xx") is None
        retried = api.post(TASKS, json={"title": "x"}, headers=headers)
        assert retried.status_code == 201
        assert "idempotent-replayed" not in retried.headers
        assert ids(api, carol) == [retried.json()["task_id"]]


def test_two_users_do_not_see_each_other(api: TestClient, local_stack: LocalStack) -> None:
    one, two = new_user(local_stack, "dora"), new_user(local_stack, "erin")
    mine = create(api, one)["task_id"]
    theirs = create(api, two)["task_id"]
    assert ids(api, one) == [mine]
    assert ids(api, two) == [theirs]
