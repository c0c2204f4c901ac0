"""The demo's API traffic: users signed up, tasks created and updated over HTTP.

Each (user, task) is one job for a pool of driver threads, each with its own
keep-alive connection. Creates carry an ``Idempotency-Key``; updates carry
``If-Match`` with the ETag of the task's previous response, so a retry can
never apply twice.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from todo_local.cognito import stack_user_tokens

STATUS_CYCLE = ("in_progress", "completed", "pending", "completed", "cancelled")
CATEGORIES = ("work", "home", "errands", "health", None)
PRIORITIES = ("low", "medium", "high", "urgent")


class DemoFailed(RuntimeError):
    pass


#: How many rejected calls the summary spells out.
MAX_REJECTIONS_SHOWN = 5


@dataclass
class Accepted:
    """What the API said yes to: the demo's ground truth."""

    users: int = 0
    creates: int = 0
    updates: int = 0
    rejected: int = 0
    #: The first few rejections, as "METHOD status detail", for the summary.
    rejections: List[str] = field(default_factory=list)
    #: Final status of every task, by (user email, task id).
    status: Dict[Tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note_rejection(self, method: str, code: int, body: Dict[str, Any]) -> None:
        """Keep the first few rejections (call with ``lock`` held)."""
        if len(self.rejections) < MAX_REJECTIONS_SHOWN:
            detail = body.get("detail") or body.get("title") or ""
            self.rejections.append(f"{method} {code} {detail}".strip())

    @property
    def completed(self) -> int:
        return sum(1 for s in self.status.values() if s == "completed")


class Progress:
    """A one-line progress counter for long steps."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(1, total), 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._last = 0.0

    def step(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self._last >= 1.0 or self.done >= self.total:
                self._last = now
                rate = self.done / max(1e-9, now - self.started)
                print(
                    f"  {self.label}: {self.done:,}/{self.total:,} "
                    f"({100 * self.done / self.total:.0f}%, "
                    f"{rate:,.0f}/s)",
                    flush=True,
                )


_connections = threading.local()
#: Requests a driver thread sends on one connection before it opens another.
REQUESTS_PER_CONNECTION = 50


def _connection(url: str) -> Tuple[http.client.HTTPConnection, str]:
    """This thread's keep-alive connection to ``url``'s host, and the request path.

    One connection per worker thread: a new TCP connection (and a new
    server-side handler) per call costs the API more than the call itself.
    """
    parts = urllib.parse.urlsplit(url)
    key = (parts.hostname, parts.port)
    pool = getattr(_connections, "pool", None)
    if pool is None:
        pool = _connections.pool = {}
    conn = pool.get(key)
    uses = getattr(_connections, "uses", 0) + 1
    if conn is not None and uses > REQUESTS_PER_CONNECTION:
        # Reconnect now and then: the API's worker processes share one
        # listening socket, and a connection stays with the worker that
        # accepted it; fresh connections go to whichever is free.
        conn.close()
        conn, uses = None, 1
    _connections.uses = uses
    if conn is None:
        conn = pool[key] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return conn, path


def _drop_connection(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    conn = getattr(_connections, "pool", {}).pop((parts.hostname, parts.port), None)
    if conn is not None:
        conn.close()


def _request(
    method: str,
    url: str,
    token: str,
    body: Optional[Dict[str, Any]] = None,
    headers: Optional[Dict[str, str]] = None,
    attempts: int = 5,
) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    all_headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    for attempt in range(attempts):
        try:
            conn, path = _connection(url)
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
            response_headers = dict(response.getheaders())
            if response.will_close:
                _drop_connection(url)
        except (OSError, http.client.HTTPException):
            # A dropped keep-alive connection, or the API is busy: reconnect
            # and retry (same Idempotency-Key or If-Match: a retry cannot
            # apply twice).
            _drop_connection(url)
            if attempt + 1 == attempts:
                raise
            time.sleep(0.5 * attempt)
            continue
        status = response.status
        # 429/503: busy. 409 with Retry-After: an earlier attempt of this very
        # create (same Idempotency-Key; its connection dropped) is still in
        # flight; the retry then replays its answer.
        retry_after = _header(response_headers, "Retry-After")
        retry_later = status in (429, 503) or (status == 409 and retry_after != "")
        if retry_later and attempt + 1 < attempts:
            time.sleep(float(retry_after or 0.5))
            continue  # same Idempotency-Key or If-Match: a retry cannot apply twice
        try:
            return status, (json.loads(payload) if payload else {}), response_headers
        except ValueError:
            return status, {"detail": payload.decode(errors="replace")}, response_headers
    raise DemoFailed(f"{method} {url}: no answer")


def _header(headers: Dict[str, str], name: str) -> str:
    """A response header by case-insensitive name ('' when absent)."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def _confirm_applied(
    url: str, token: str, change: Dict[str, Any], etag: str
) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    """After a 412: 200 if the task is one version past ``etag`` and shows ``change``.

    Each task is changed by one driver thread only, so the only way its
    version moved is an earlier attempt of this very update.
    """
    code, task, headers = _request("GET", url, token)
    expected_version = int(etag.strip('W/"') or 0) + 1
    applied = (
        code == 200
        and task.get("version") == expected_version
        and all(task.get(field) == value for field, value in change.items())
    )
    return (200 if applied else 412), task, headers


def drive_api(
    api: str,
    tokens: Dict[str, str],
    tasks_per_user: int,
    updates_per_task: int,
    workers: int,
    accepted: Accepted,
) -> None:
    """Each (user, task) is one job: create it, then update it in order."""
    total = len(tokens) * tasks_per_user * (1 + updates_per_task)
    progress = Progress("API calls", total)

    def one_task(email: str, index: int) -> None:
        token = tokens[email]
        body = {
            "title": f"Task {index + 1} of {email}",
            "priority": PRIORITIES[index % len(PRIORITIES)],
            "description": "created by the demo",
        }
        category = CATEGORIES[index % len(CATEGORIES)]
        if category:
            body["category"] = category
        # A create is retried under the same Idempotency-Key, so it applies once.
        code, task, headers = _request(
            "POST", f"{api}/api/v1/tasks", token, body, {"Idempotency-Key": uuid.uuid4().hex}
        )
        progress.step()
        if code != 201:
            with accepted.lock:
                accepted.rejected += 1 + updates_per_task
                accepted.note_rejection("POST", code, task)
            progress.step(updates_per_task)
            return
        task_id, status = task["task_id"], task.get("status", "pending")
        with accepted.lock:
            accepted.creates += 1
            accepted.status[(email, task_id)] = status
        etag = _header(headers, "ETag")
        for k in range(updates_per_task):
            change: Dict[str, Any] = {"status": STATUS_CYCLE[(index + k) % len(STATUS_CYCLE)]}
            if k % 2:
                change["title"] = f"Task {index + 1} of {email} (edit {k + 1})"
            url = f"{api}/api/v1/tasks/{task_id}"
            # An update is conditional on the ETag it was computed from (If-Match),
            # the HTTP way to make it safe to retry: a retry of an update that was
            # applied but not acknowledged answers 412, and the task then shows
            # the change. It also spares the two idempotency-record writes.
            code, updated, headers = _request("PATCH", url, token, change, {"If-Match": etag})
            if code == 412:
                code, updated, headers = _confirm_applied(url, token, change, etag)
            progress.step()
            etag = _header(headers, "ETag") or etag
            with accepted.lock:
                if code == 200:
                    accepted.updates += 1
                    accepted.status[(email, task_id)] = updated.get("status", change["status"])
                else:
                    accepted.rejected += 1
                    accepted.note_rejection("PATCH", code, updated)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(one_task, email, i) for email in tokens for i in range(tasks_per_user)
        ]
        for future in as_completed(futures):
            future.result()


def sign_up(stack: Any, num_users: int, workers: int) -> Dict[str, str]:
    progress = Progress("users signed up", num_users)

    def one(i: int) -> Tuple[str, str]:
        email = f"demo-user-{i:04d}@example.com"
        tokens = stack_user_tokens(stack, email, given_name="Demo", family_name=f"User {i}")
        progress.step()
        return email, tokens.id_token

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, range(num_users)))
