"""Real concurrency over real HTTP: uvicorn in a child process against the emulator.

Bounded in count and time (the whole module stays well under a minute); no
timing is asserted, only outcomes.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Tuple

import httpx
import pytest

from tests.integration.conftest import CognitoUser, new_user
from todo_local.api_process import ApiProcess
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration
TASKS = "/api/v1/tasks"
LOAD_CLIENTS = 8
LOAD_REQUESTS_PER_CLIENT = 200
LOAD_DEADLINE_SECONDS = 30.0


def _all_ids(http: httpx.Client, user: CognitoUser) -> List[str]:
    found, cursor = [], None
    while True:
        params: Dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = http.get(TASKS, params=params, headers=user.headers).json()
        found += [t["task_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def _burst(server: ApiProcess, count: int, request: Any) -> List[httpx.Response]:
    """``count`` requests released at the same instant, each on its own connection."""
    barrier = threading.Barrier(count)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            barrier.wait()
            return request(http)  # type: ignore[no-any-return]

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_same_key_in_flight_is_409_and_runs_once(
    api_server: ApiProcess, local_stack: LocalStack
) -> None:
    user = new_user(local_stack, "racer")
    statuses: Counter = Counter()
    created: set = set()
    for round_ in range(5):
        key = f"race-{round_}-{uuid.uuid4().hex[:6]}"
        responses = _burst(
            api_server,
            8,
            lambda http, key=key: http.post(
                TASKS,
                json={"title": "raced"},
                headers=user.with_headers(**{"Idempotency-Key": key}),
            ),
        )
        for response in responses:
            statuses[response.status_code] += 1
            assert response.status_code in (201, 409), response.text
            if response.status_code == 409:
                assert response.headers["content-type"] == "application/problem+json"
            else:
                created.add(response.json()["task_id"])
        if statuses[409]:
            break
    assert statuses[409] >= 1, f"no request overlapped in flight: {statuses}"
    # Whatever the interleaving: each key created exactly one task.
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        stored = _all_ids(http, user)
    assert sorted(stored) == sorted(created)
    assert len(stored) == round_ + 1


def test_concurrent_writers_never_lose_an_update(
    api_server: ApiProcess, local_stack: LocalStack
) -> None:
    user = new_user(local_stack, "writer")
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        task = http.post(TASKS, json={"title": "shared"}, headers=user.headers).json()
    url = f"{TASKS}/{task['task_id']}"

    # Unconditional partial updates: every one is applied on top of the latest.
    responses = _burst(
        api_server,
        8,
        lambda http: http.patch(
            url, json={"description": f"writer {uuid.uuid4().hex[:6]}"}, headers=user.headers
        ),
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    versions = sorted(r.json()["version"] for r in responses)
    assert versions == list(range(2, 10))  # 8 distinct versions: no write overwrote another

    # Conditional updates from the same version: exactly one wins, the rest are 412.
    responses = _burst(
        api_server,
        8,
        lambda http: http.put(
            url,
            json={"title": f"mine {uuid.uuid4().hex[:4]}"},
            headers=user.with_headers(**{"If-Match": '"9"'}),
        ),
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == Counter({200: 1, 412: 7}), codes
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        final = http.get(url, headers=user.headers)
    winner = next(r for r in responses if r.status_code == 200).json()
    assert final.json() == winner
    assert final.headers["etag"] == '"10"'


def test_load_zero_5xx_and_every_201_is_stored(
    api_server: ApiProcess, local_stack: LocalStack
) -> None:
    users = [new_user(local_stack, f"load{n}") for n in range(2)]
    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    lock = threading.Lock()
    statuses: Counter = Counter()
    created: Dict[str, List[str]] = {u.email: [] for u in users}

    def client(number: int) -> int:
        rng = random.Random(number)
        user = users[number % len(users)]
        mine: List[Tuple[str, int]] = []
        sent = 0
        with httpx.Client(base_url=api_server.url, timeout=30) as http:
            while sent < LOAD_REQUESTS_PER_CLIENT and time.monotonic() < deadline:
                roll = rng.random()
                if roll < 0.4 or not mine:
                    headers = user.headers
                    if rng.random() < 0.5:
                        headers = user.with_headers(**{"Idempotency-Key": uuid.uuid4().hex})
                    response = http.post(
                        TASKS,
                        json={"title": f"load {sent}", "priority": rng.choice(["low", "high"])},
                        headers=headers,
                    )
                    if response.status_code == 201:
                        mine.append((response.json()["task_id"], 1))
                        with lock:
                            created[user.email].append(response.json()["task_id"])
                elif roll < 0.7:
                    response = http.get(
                        TASKS,
                        params={"priority": rng.choice(["low", "high"]), "limit": 10},
                        headers=user.headers,
                    )
                elif roll < 0.85:
                    task_id, _ = rng.choice(mine)
                    response = http.get(f"{TASKS}/{task_id}", headers=user.headers)
                else:
                    task_id, _ = rng.choice(mine)
                    response = http.patch(
                        f"{TASKS}/{task_id}", json={"status": "in_progress"}, headers=user.headers
                    )
                with lock:
                    statuses[response.status_code] += 1
                sent += 1
        return sent

    started = time.monotonic()
    with ThreadPoolExecutor(LOAD_CLIENTS) as pool:
        sent = sum(pool.map(client, range(LOAD_CLIENTS)))
    print(f"load: {sent} requests in {time.monotonic() - started:.1f}s, statuses {dict(statuses)}")
    assert sent >= LOAD_CLIENTS * 50, f"only {sent} requests in {LOAD_DEADLINE_SECONDS}s"
    assert not [code for code in statuses if code >= 500], statuses
    assert set(statuses) <= {200, 201}, statuses
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        for user in users:
            assert sorted(_all_ids(http, user)) == sorted(created[user.email])
    assert sum(len(v) for v in created.values()) == statuses[201]
