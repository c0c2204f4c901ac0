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


class _Scripted:
    """A local HTTP server answering POSTs with scripted (status, headers, body)."""

    def __init__(self, answers: List[Tuple[int, Dict[str, str], Dict[str, Any]]]) -> None:
        import http.server
        import json
        import threading

        self.seen: List[Dict[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.seen.append(dict(self.headers))
                status, headers, body = answers[min(len(outer.seen), len(answers)) - 1]
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/tasks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_create_still_in_flight_is_retried_with_the_same_key() -> None:
    in_flight = (409, {"retry-after": "0"}, {"detail": "the first request ... has not finished"})
    server = _Scripted([in_flight, (201, {}, {"task_id": "t1"})])
    try:
        code, body, _ = demo._request(
            "POST", server.url, "tok", {"title": "x"}, {"Idempotency-Key": "k1"}
        )
    finally:
        server.close()
    assert (code, body) == (201, {"task_id": "t1"})
    assert [h.get("Idempotency-Key") for h in server.seen] == ["k1", "k1"]


def test_a_conflict_without_retry_after_is_an_answer_not_retried() -> None:
    server = _Scripted([(409, {}, {"detail": "version conflict"})])
    try:
        code, body, _ = demo._request("POST", server.url, "tok", {"title": "x"})
    finally:
        server.close()
    assert (code, body["detail"], len(server.seen)) == (409, "version conflict", 1)


def test_rejections_are_kept_for_the_summary_up_to_a_few() -> None:
    accepted = demo.Accepted()
    for n in range(demo.MAX_REJECTIONS_SHOWN + 2):
        accepted.note_rejection("POST", 500, {"detail": f"boom {n}"})
    assert accepted.rejections[0] == "POST 500 boom 0"
    assert len(accepted.rejections) == demo.MAX_REJECTIONS_SHOWN
