"""A retried create with the same Idempotency-Key never makes a second task.

Faults are injected at each step of an idempotent create: before the task is
written, after it is written (the answer is lost), at the completion of the
idempotency record, and a timeout after the write committed (the process dies,
nothing is cleaned up). Whatever failed, the retry is answered as a replay of
the one task that exists.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, Optional

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, unit_settings
from tests.fakes import InMemoryRepository, in_memory_idempotency
from todo_api import problems
from todo_api.app import create_app
from todo_api.auth import JwtVerifier
from todo_core.errors import StoreUnavailable
from todo_core.models import Task

TASKS = "/api/v1/tasks"
BODY = {"title": "Pay rent", "description": "private note: account 1234"}


class Timeout(BaseException):
    """Like a Lambda timeout: the process dies, nothing is cleaned up."""


class FaultyRepository(InMemoryRepository):
    """Fails a create once, before or after the write commits."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_before: Optional[BaseException] = None
        self.fail_after: Optional[BaseException] = None

    def create_task(self, task: Any, claim: Any = None) -> Any:
        if self.fail_before is not None:
            fault, self.fail_before = self.fail_before, None
            raise fault
        created = super().create_task(task, claim)
        if self.fail_after is not None:
            fault, self.fail_after = self.fail_after, None
            raise fault
        return created


@pytest.fixture
def repository() -> FaultyRepository:
    return FaultyRepository()


@pytest.fixture
def idempotency() -> Any:
    return in_memory_idempotency()


@pytest.fixture
def client(
    repository: FaultyRepository, idempotency: Any, verifier: JwtVerifier
) -> Iterator[TestClient]:
    app = create_app(
        unit_settings(),
        tasks=repository,
        profiles=repository,
        idempotency=idempotency,
        verifier=verifier,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def headers(tokens: TokenFactory) -> Dict[str, str]:
    return {
        "Authorization": f"Bearer {tokens.token(sub='erin')}",
        "Idempotency-Key": "rent-2026-12",
    }


def _listed(client: TestClient, headers: Dict[str, str]) -> list:
    auth = {"Authorization": headers["Authorization"]}
    return client.get(TASKS, headers=auth).json()["items"]  # type: ignore[no-any-return]


def _expire_in_flight_markers(idempotency: Any) -> None:
    for record in idempotency._store.records.values():
        if record.status == "INPROGRESS":
            record.in_progress_expiry_timestamp = 0


def test_fault_before_the_write_runs_again(
    client: TestClient, repository: FaultyRepository, headers: Dict[str, str]
) -> None:
    repository.fail_before = StoreUnavailable("throttled")
    assert client.post(TASKS, json=BODY, headers=headers).status_code == 503
    retried = client.post(TASKS, json=BODY, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert len(_listed(client, headers)) == 1


def test_fault_after_the_write_is_answered_as_a_replay(
    client: TestClient, repository: FaultyRepository, headers: Dict[str, str]
) -> None:
    repository.fail_after = StoreUnavailable("connection reset after commit")
    assert client.post(TASKS, json=BODY, headers=headers).status_code == 503
    retried = client.post(TASKS, json=BODY, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    listed = _listed(client, headers)
    assert [t["task_id"] for t in listed] == [retried.json()["task_id"]]
    assert retried.headers["location"].endswith(retried.json()["task_id"])


def test_completion_write_failure_answers_the_real_result(
    client: TestClient, idempotency: Any, headers: Dict[str, str]
) -> None:
    idempotency._store.fail_completions = 1
    first = client.post(TASKS, json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["title"] == BODY["title"]
    retried = client.post(TASKS, json=BODY, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["task_id"] == first.json()["task_id"]
    assert len(_listed(client, headers)) == 1


def test_timeout_after_commit_never_makes_a_second_task(
    client: TestClient, repository: FaultyRepository, idempotency: Any, headers: Dict[str, str]
) -> None:
    # The first attempt, as the route runs it, dies after its transaction
    # committed: no completion, no clean-up, the in-progress marker stays.
    fingerprint = {"method": "POST", "path": TASKS, "if_match": None, "body": BODY}
    claim = idempotency.claim("erin", headers["Idempotency-Key"], fingerprint)

    def dies_after_commit() -> Any:
        repository.create_task(Task.new("erin", dict(BODY)), claim)
        raise Timeout()

    with pytest.raises(Timeout):
        idempotency.run("erin", headers["Idempotency-Key"], fingerprint, dies_after_commit)
    assert len(repository.tasks) == 1

    in_flight = client.post(TASKS, json=BODY, headers=headers)
    assert in_flight.status_code == 409
    assert in_flight.json()["type"] == problems.IDEMPOTENCY_IN_FLIGHT.uri
    _expire_in_flight_markers(idempotency)
    retried = client.post(TASKS, json=BODY, headers=headers)
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert len(_listed(client, headers)) == 1


def test_a_reused_key_with_another_body_after_a_lost_answer_is_422(
    client: TestClient, repository: FaultyRepository, headers: Dict[str, str]
) -> None:
    repository.fail_after = StoreUnavailable("connection reset after commit")
    assert client.post(TASKS, json=BODY, headers=headers).status_code == 503
    other = client.post(TASKS, json={"title": "something else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == problems.IDEMPOTENCY_KEY_REUSED.uri
    assert len(_listed(client, headers)) == 1


def test_idempotency_records_hold_no_task_content(
    client: TestClient, idempotency: Any, headers: Dict[str, str]
) -> None:
    first = client.post(TASKS, json=BODY, headers=headers)
    assert first.status_code == 201
    stored = [r.response_data or "" for r in idempotency._store.records.values()]
    assert stored
    assert all(BODY["title"] not in text for text in stored)
    assert all("account" not in text for text in stored)
    response = json.loads(stored[0])
    assert response["task_id"] == first.json()["task_id"]
    # The replay is rebuilt from the task itself.
    replay = client.post(TASKS, json=BODY, headers=headers)
    assert replay.json() == first.json()
    assert replay.headers["etag"] == first.headers["etag"]
