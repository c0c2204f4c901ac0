"""Inputs that must be refused or compared exactly (headers, text, reads)."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory
from tests.fakes import InMemoryRepository
from todo_api import problems
from todo_api.preconditions import parse_if_match

TASKS = "/api/v1/tasks"


@pytest.fixture
def alice(tokens: TokenFactory) -> Dict[str, str]:
    return {"Authorization": f"Bearer {tokens.token(sub='alice')}"}


def _create(client: TestClient, headers: Dict[str, str], **fields: Any) -> Dict[str, Any]:
    response = client.post(TASKS, json={"title": "t", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# --- If-Match: never a 500, strong comparison by exact text --------------------


@pytest.mark.parametrize("raw", [b'"\xb2"', b'"\xb9"', b'"1\xb2"', b'"\xb2", "\xb9"'])
def test_superscript_digits_in_if_match_are_not_a_server_error(
    unit_client: TestClient, alice: Dict[str, str], raw: bytes
) -> None:
    task = _create(unit_client, alice)
    response = unit_client.patch(
        f"{TASKS}/{task['task_id']}", json={"title": "x"}, headers={**alice, "If-Match": raw}
    )
    # Syntactically an entity tag (obs-text is allowed), but never one of ours.
    assert response.status_code == 412, response.text
    assert response.json()["type"] == problems.PRECONDITION_FAILED.uri


@pytest.mark.parametrize("tag", ['"0002"', '"+2"', '"02", "002"', '"\u0662"'])
def test_if_match_compares_the_exact_text(
    unit_client: TestClient, alice: Dict[str, str], tag: str
) -> None:
    task = _create(unit_client, alice)
    url = f"{TASKS}/{task['task_id']}"
    assert unit_client.patch(url, json={"title": "v2"}, headers=alice).headers["etag"] == '"2"'
    response = unit_client.patch(
        url, json={"title": "x"}, headers={**alice, "If-Match": tag.encode("utf-8")}
    )
    assert response.status_code == 412, response.text
    assert unit_client.get(url, headers=alice).json()["title"] == "v2"


@pytest.mark.parametrize("header", ['"0002"', '"²"', '"+2"', '"2.0"'])
def test_only_the_canonical_text_of_a_version_matches(header: str) -> None:
    condition = parse_if_match(header)
    assert condition is not None
    assert not condition.matches(2)


@pytest.mark.parametrize("raw", [b"\x00", b'"2"\x01', b'"a" , ,'])
def test_malformed_if_match_is_400(
    unit_client: TestClient, alice: Dict[str, str], raw: bytes
) -> None:
    task = _create(unit_client, alice)
    response = unit_client.delete(f"{TASKS}/{task['task_id']}", headers={**alice, "If-Match": raw})
    assert response.status_code == 400, response.text
    assert response.json()["type"] == problems.MALFORMED_PRECONDITION.uri


# --- single-item reads are strongly consistent ---------------------------------


def test_reading_one_task_is_strongly_consistent(
    unit_client: TestClient, alice: Dict[str, str], repository: InMemoryRepository
) -> None:
    task = _create(unit_client, alice)
    repository.consistent_reads.clear()
    assert unit_client.get(f"{TASKS}/{task['task_id']}", headers=alice).status_code == 200
    assert repository.consistent_reads == [True]
