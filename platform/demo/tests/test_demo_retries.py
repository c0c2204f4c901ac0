"""The demo driver's updates are safe to retry: If-Match, and a 412 checked against the task."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest

from todo_demo import driver as demo

CHANGE = {"status": "completed", "title": "edited"}


def _answer_get(monkeypatch: pytest.MonkeyPatch, code: int, task: Dict[str, Any]) -> List[Tuple]:
    calls: List[Tuple] = []

    def fake_request(method: str, url: str, token: str, *args: Any, **kwargs: Any) -> Tuple:
        calls.append((method, url))
        return code, task, {"etag": f'"{task.get("version")}"'}

    monkeypatch.setattr(demo, "_request", fake_request)
    return calls


def test_a_412_after_our_own_applied_update_counts_as_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _answer_get(monkeypatch, 200, {"version": 4, **CHANGE})
    code, task, headers = demo._confirm_applied("http://api/t/1", "tok", CHANGE, '"3"')
    assert task["version"] == 4
    assert code == 200
    assert demo._header(headers, "ETag") == '"4"'
    assert calls == [("GET", "http://api/t/1")]


@pytest.mark.parametrize(
    "task",
    [
        {"version": 3, **CHANGE},  # not applied: the version did not move
        {"version": 5, **CHANGE},  # moved twice: someone else changed it
        {"version": 4, "status": "pending", "title": "edited"},  # another change
    ],
)
def test_a_412_for_anything_else_stays_a_rejection(
    monkeypatch: pytest.MonkeyPatch, task: Dict[str, Any]
) -> None:
    _answer_get(monkeypatch, 200, task)
    code, _, _ = demo._confirm_applied("http://api/t/1", "tok", CHANGE, '"3"')
    assert code == 412


def test_headers_are_found_whatever_their_case() -> None:
    assert demo._header({"etag": '"1"'}, "ETag") == '"1"'
    assert demo._header({"ETag": '"2"'}, "etag") == '"2"'
    assert demo._header({}, "ETag") == ""
