"""Inputs that must be refused or compared exactly (headers, text, reads)."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import TokenFactory
from tests.fakes import InMemoryRepository
from todo_api import problems
from todo_api.preconditions import parse_if_match
from todo_api.responses import json_response

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


# --- text: no control or format characters, NFC, invisible is blank ------------


@pytest.mark.parametrize(
    "body",
    [
        {"title": "a\u0000b"},
        {"title": "\u200b\u200b\u200b"},
        {"title": "\u3164"},
        {"title": "invoice\u202efdp.exe"},
        {"title": "t", "category": "home\u0000office"},
        {"title": "t", "category": "\u2066work"},
        {"title": "t", "description": "bell\u0007"},
        {"title": "t", "description": "zero\u200bwidth"},
    ],
)
def test_text_with_control_format_or_only_invisible_characters_is_422(
    unit_client: TestClient, alice: Dict[str, str], body: Dict[str, Any]
) -> None:
    response = unit_client.post(TASKS, json=body, headers=alice)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == problems.VALIDATION_FAILED.uri
    task = _create(unit_client, alice)
    update = unit_client.patch(f"{TASKS}/{task['task_id']}", json=body, headers=alice)
    assert update.status_code == 422, update.text


def test_a_lone_surrogate_is_422_not_a_storage_error(
    unit_client: TestClient, alice: Dict[str, str]
) -> None:
    response = unit_client.post(
        TASKS,
        content=b'{"title": "lone \\ud800 surrogate"}',
        headers={**alice, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


def test_descriptions_keep_tabs_and_newlines(
    unit_client: TestClient, alice: Dict[str, str]
) -> None:
    task = _create(unit_client, alice, description="1.\tmilk\n2.\teggs")
    assert task["description"] == "1.\tmilk\n2.\teggs"


def test_text_is_stored_in_nfc(unit_client: TestClient, alice: Dict[str, str]) -> None:
    task = _create(unit_client, alice, title="Cafe\u0301", category="Re\u0301sume\u0301")
    assert task["title"] == "Caf\u00e9"
    assert task["category"] == "r\u00e9sum\u00e9"
    listed = unit_client.get(TASKS, params={"category": "R\u00e9sum\u00e9"}, headers=alice)
    assert [t["task_id"] for t in listed.json()["items"]] == [task["task_id"]]


def test_a_category_filter_with_control_characters_is_422(
    unit_client: TestClient, alice: Dict[str, str]
) -> None:
    response = unit_client.get(TASKS, params={"category": "a\u0000b"}, headers=alice)
    assert response.status_code == 422


# --- rendering -----------------------------------------------------------------


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )
)
def test_bodies_are_the_compact_utf8_json_of_the_standard_library(body: Any) -> None:
    expected = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert json_response(body).body == expected
