"""Exactly-once creates against the emulator, with faults injected by botocore hooks.

The reproduction of the issue: only the idempotency completion write fails
(throttled), or the answer of the committed task transaction is lost. In
both cases the client must end up with exactly one task, and the retry must
be answered as a replay of it.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator, List

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import CognitoUser, emulator_settings
from tests.integration.test_api_emulator import idempotency_item, ids
from todo_api import problems
from todo_api.app import create_app
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration
TASKS = "/api/v1/tasks"
BODY = {"title": "Pay rent", "description": "private: account 1234"}


def _throttled(client: Any, operation: str) -> Exception:
    return client.exceptions.ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation
    )


@pytest.fixture
def app(local_stack: LocalStack) -> Any:
    return create_app(emulator_settings(local_stack))


@pytest.fixture
def api(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _once(action: Callable[..., Any], when: Callable[..., bool]) -> Callable[..., Any]:
    left = {"n": 1}

    def hook(**kwargs: Any) -> Any:
        if left["n"] and when(**kwargs):
            left["n"] -= 1
            action(**kwargs)
        return None

    return hook


def test_a_throttled_completion_write_answers_the_real_result_and_never_duplicates(
    app: Any, api: TestClient, local_stack: LocalStack, carol: CognitoUser
) -> None:
    client = app.state.container.client
    user_id = api.get("/api/v1/users/me", headers=carol.headers).json()["user_id"]

    def completion(params: Dict[str, Any], **_: Any) -> bool:
        # Powertools' completion: the UpdateItem of our idempotency record.
        return "IDEMPOTENCY" in json.dumps(params.get("Key", {}))

    def throttle(**_: Any) -> None:
        raise _throttled(client, "UpdateItem")

    client.meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", _once(throttle, completion)
    )
    headers = carol.with_headers(**{"Idempotency-Key": "rent-throttled-completion"})
    first = api.post(TASKS, json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    retried = api.post(TASKS, json=BODY, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["task_id"] == first.json()["task_id"]
    assert retried.headers["location"] == first.headers["location"]
    assert ids(api, carol) == [first.json()["task_id"]]
    # Eventually a completed record, holding no task content.
    again = api.post(TASKS, json=BODY, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    record = idempotency_item(local_stack, user_id, "rent-throttled-completion")
    assert record is not None
    assert "Pay rent" not in json.dumps(record)
    assert "account" not in json.dumps(record)


def test_a_lost_answer_after_the_commit_is_a_replay_on_retry(
    app: Any, api: TestClient, carol: CognitoUser
) -> None:
    client = app.state.container.client
    # The caller's profile first: its transaction is not the one to break.
    assert api.get("/api/v1/users/me", headers=carol.headers).status_code == 200

    def lose_answer(**_: Any) -> None:
        from botocore.exceptions import ConnectionClosedError

        raise ConnectionClosedError(endpoint_url="emulator")

    client.meta.events.register(
        "after-call.dynamodb.TransactWriteItems", _once(lose_answer, lambda **_: True)
    )
    headers = carol.with_headers(**{"Idempotency-Key": "rent-lost-answer"})
    failed = api.post(TASKS, json=BODY, headers=headers)
    assert failed.status_code == 503
    assert failed.json()["type"] == problems.SERVICE_UNAVAILABLE.uri
    retried = api.post(TASKS, json=BODY, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    listed: List[str] = ids(api, carol)
    assert listed == [retried.json()["task_id"]]
    reused = api.post(TASKS, json={"title": "another"}, headers=headers)
    assert reused.status_code == 422
