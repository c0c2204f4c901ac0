"""The operations runbook's "API Testing and Operations" section, call by call,
against the local stack as ``todo-local up`` / ``nox -s dev`` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import httpx
import pytest

from todo_core import lake
from todo_local.devstack import DevStack
from todo_local.stack import make_client
from todo_local.waiting import wait_for

pytestmark = pytest.mark.integration

USERNAME = "testuser@example.com"
PASSWORD = "TempPassword123!"


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    folder = tmp_path_factory.mktemp("dev")
    outputs_path = folder / "outputs.json"
    with DevStack(with_stream_runner=False, outputs_path=str(outputs_path), log_dir=str(folder)):
        yield {
            "outputs": json.loads(outputs_path.read_text()),
            "path": outputs_path,
            "folder": folder,
        }


def test_runbook_api_calls(dev_stack: Dict[str, Any]) -> None:
    outputs = dev_stack["outputs"]
    api = outputs["ApiEndpoint"]
    assert api.startswith("http://127.0.0.1:")

    # Health check (no authentication).
    health = httpx.get(f"{api}/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "version": health.json()["version"],
        "environment": "local",
    }

    # User management: the runbook's three aws cognito-idp calls.
    cognito = make_client("cognito-idp", outputs["AwsEndpointUrl"])
    cognito.admin_create_user(
        UserPoolId=outputs["UserPoolId"],
        Username=USERNAME,
        UserAttributes=[
            {"Name": "email", "Value": USERNAME},
            {"Name": "given_name", "Value": "Test"},
            {"Name": "family_name", "Value": "User"},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=outputs["UserPoolId"], Username=USERNAME, Password=PASSWORD, Permanent=True
    )
    auth = cognito.admin_initiate_auth(
        UserPoolId=outputs["UserPoolId"],
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": USERNAME, "PASSWORD": PASSWORD},
    )
    id_token = auth["AuthenticationResult"]["IdToken"]
    bearer = {"Authorization": f"Bearer {id_token}"}

    # Create task with idempotency.
    created = httpx.post(
        f"{api}/api/v1/tasks",
        headers={
            **bearer,
            "Content-Type": "application/json",
            "Idempotency-Key": "task-creation-123",
        },
        content=json.dumps(
            {
                "title": "Test Task",
                "description": "This is a test task created via API",
                "priority": "medium",
                "category": "testing",
                "status": "pending",
            }
        ),
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["task_id"]

    # Get all tasks, then by status.
    listed = httpx.get(f"{api}/api/v1/tasks", headers=bearer)
    assert listed.status_code == 200
    assert [t["task_id"] for t in listed.json()["items"]] == [task_id]
    pending = httpx.get(f"{api}/api/v1/tasks?status=pending", headers=bearer)
    assert pending.status_code == 200
    assert [t["task_id"] for t in pending.json()["items"]] == [task_id]

    # Update task status with idempotency.
    updated = httpx.put(
        f"{api}/api/v1/tasks/{task_id}",
        headers={
            **bearer,
            "Content-Type": "application/json",
            "Idempotency-Key": "task-update-456",
        },
        content=json.dumps({"status": "in_progress", "priority": "high"}),
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["status"], updated.json()["priority"]) == ("in_progress", "high")


def test_token_command_prints_a_working_id_token(dev_stack: Dict[str, Any]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "todo_local.cli",
            "token",
            "cli-user@example.com",
            "--outputs",
            str(dev_stack["path"]),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = result.stdout.strip()
    me = httpx.get(
        f"{dev_stack['outputs']['ApiEndpoint']}/api/v1/users/me",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.status_code == 200
    assert me.json()["email"] == "cli-user@example.com"


def test_api_logs_reach_the_logs_delivery_stream(dev_stack: Dict[str, Any]) -> None:
    outputs = dev_stack["outputs"]
    log_file = Path(dev_stack["folder"]) / "api.log"
    assert '"component":"lambda-sync"' in log_file.read_text()
    s3 = make_client("s3", outputs["AwsEndpointUrl"])

    def delivered_lines() -> list:
        lines: list = []
        for obj in s3.list_objects_v2(
            Bucket=outputs["BronzeBucketName"], Prefix=lake.BRONZE_LOGS_PREFIX
        ).get("Contents", []):
            body = s3.get_object(Bucket=outputs["BronzeBucketName"], Key=obj["Key"])["Body"].read()
            lines += [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        return lines

    wait_for(
        delivered_lines,
        until=lambda lines: any(line.get("operation") == "create-task" for line in lines),
        timeout=30,
        what="the API's create-task log line in bronze",
        interval=0.5,
    )
