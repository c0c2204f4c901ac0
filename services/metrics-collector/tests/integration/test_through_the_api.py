"""The workload driven through the todo API's ASGI app (the code the API Lambda
runs), with Idempotency-Key replays of every write: the published numbers count
each write once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, Optional

import httpx
import pytest
from kpi_stream import apply_stream
from tests.readback import read_published

from metrics_collector import collector
from metrics_collector.settings import Settings
from todo_api.app import create_app
from todo_api.settings import Settings as ApiSettings
from todo_local.cognito import stack_user_tokens

pytestmark = pytest.mark.integration

TASKS = "/api/v1/tasks"


class User:
    def __init__(self, client: httpx.AsyncClient, stack: Any, name: str) -> None:
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        token = stack_user_tokens(stack, email).id_token
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def write(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        """One write, sent twice with the same Idempotency-Key (a client retry)."""
        headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4())}
        first = await self.client.request(method, path, json=body, headers=headers)
        replay = await self.client.request(method, path, json=body, headers=headers)
        assert first.status_code < 300, first.text
        assert replay.status_code == first.status_code, replay.text
        assert replay.content == first.content  # the stored response, not a second write
        return first.json() if first.content else None


async def drive(app: Any, stack: Any) -> None:
    # The ASGI app in-process, as the Lambda adapter calls it (no lifespan either).
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.local") as client:
        alice, bob, carol = (User(client, stack, n) for n in ("alice", "bob", "carol"))

        t1 = (await alice.write("POST", TASKS, {"title": "one"}))["task_id"]
        t2 = (await alice.write("POST", TASKS, {"title": "two", "status": "completed"}))["task_id"]
        await alice.write("PATCH", f"{TASKS}/{t1}", {"status": "completed"})
        await alice.write("PATCH", f"{TASKS}/{t1}", {"status": "pending"})  # reopened
        await alice.write("DELETE", f"{TASKS}/{t2}")  # a completed task, deleted
        t3 = (await bob.write("POST", TASKS, {"title": "three"}))["task_id"]
        await bob.write("PATCH", f"{TASKS}/{t3}", {"status": "cancelled"})
        await bob.write("POST", TASKS, {"title": "four", "status": "completed"})
        # carol only signs in and reads.
        assert (await client.get("/api/v1/users/me", headers=carol.headers)).status_code == 200
        assert (await client.get(TASKS, headers=carol.headers)).json()["items"] == []


def test_api_writes_and_their_replays_are_counted_once(
    local_stack: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any
) -> None:
    api_settings = ApiSettings(
        stage="local",
        table_name=table,
        cursor_secret_id=local_stack.names.cursor_signing_secret,
        cognito_user_pool_id=local_stack.user_pool_id,
        cognito_client_id=local_stack.user_pool_client_id,
        cognito_issuer=local_stack.issuer,
        cognito_jwks_url=local_stack.jwks_url,
    )
    asyncio.run(drive(create_app(api_settings), local_stack))

    apply_stream(dynamodb, table)
    settings = Settings(stage=stage, table_name=table)
    values = collector.run(settings, dynamodb, cloudwatch).publishable()

    # Ground truth of the script above: users alice, bob, carol; active alice and
    # bob; existing tasks t1 (pending), t3 (cancelled), four (completed).
    expected = {
        "TotalUsers": 3, "ActiveUsers": 2, "TotalTasks": 3, "CompletedTasks": 1,
        "CompletionRate": 100 / 3, "AvgTasksPerUser": 1.0,
    }
    assert values == pytest.approx(expected)
    assert read_published(cloudwatch, stage=stage) == pytest.approx(expected)
