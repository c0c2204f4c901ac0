"""The API served locally (uvicorn child process) and its log forwarding."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from todo_core import lake
from todo_local.api_process import ApiProcess, LogForwarder, api_environment
from todo_local.cognito import stack_user_tokens
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_environment_matches_what_the_lambda_gets(local_stack: LocalStack) -> None:
    env = api_environment(local_stack)
    assert env["TABLE_NAME"] == local_stack.names.table
    assert env["CURSOR_SECRET_ID"] == local_stack.names.cursor_signing_secret
    assert env["COGNITO_ISSUER"] == local_stack.issuer
    assert env["COGNITO_JWKS_URL"] == local_stack.jwks_url
    assert env["COGNITO_CLIENT_ID"] == local_stack.user_pool_client_id
    assert env["AWS_ENDPOINT_URL"] == local_stack.endpoint_url
    assert env["STAGE"] == "local"
    assert env["AUTH_MODE"] == "jwt"


def test_serves_the_api_and_forwards_its_logs(local_stack: LocalStack, tmp_path: Path) -> None:
    token = stack_user_tokens(local_stack, "api-process@example.com").id_token
    with ApiProcess(local_stack, log_dir=str(tmp_path)) as api:
        assert api.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{api.url}/health") as response:  # noqa: S310
            assert json.load(response)["environment"] == "local"
        request = urllib.request.Request(  # noqa: S310 - our own http URL
            f"{api.url}/api/v1/tasks",
            data=json.dumps({"title": "from the test"}).encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "X-Request-ID": "api-process-test",
            },
            method="POST",
        )
        with urllib.request.urlopen(request) as response:  # noqa: S310
            assert response.status == 201
    assert api.forwarder is not None
    assert api.forwarder.forwarded >= 2
    log_lines = (tmp_path / "api.log").read_text().splitlines()
    assert any('"correlation_id":"api-process-test"' in line for line in log_lines)
    s3 = local_stack.client("s3")
    found = []
    for obj in s3.list_objects_v2(
        Bucket=local_stack.names.bronze_bucket, Prefix=lake.BRONZE_LOGS_PREFIX
    ).get("Contents", []):
        body = (
            s3.get_object(Bucket=local_stack.names.bronze_bucket, Key=obj["Key"])["Body"]
            .read()
            .decode()
        )
        found += [json.loads(line) for line in body.splitlines() if line]
    assert any(
        r.get("correlation_id") == "api-process-test" and r["operation"] == "create-task"
        for r in found
    )


def test_forwarder_batches_and_retries_rejected_records() -> None:
    class Firehose:
        def __init__(self) -> None:
            self.calls: list = []

        def put_record_batch(self, DeliveryStreamName: str, Records: list) -> Any:
            self.calls.append(len(Records))
            # Reject the first record of the first call, as Firehose may.
            failed = 1 if len(self.calls) == 1 else 0
            return {
                "FailedPutCount": failed,
                "RequestResponses": [
                    {"ErrorCode": "ServiceUnavailableException"}
                    if i < failed
                    else {"RecordId": str(i)}
                    for i in range(len(Records))
                ],
            }

    firehose = Firehose()
    forwarder = LogForwarder(firehose, "stream").start()
    for n in range(1200):
        forwarder.submit(json.dumps({"n": n}))
    forwarder.close()
    assert forwarder.forwarded == 1200
    assert forwarder.failed == 0
    assert max(firehose.calls) <= 500


def test_a_failing_api_reports_its_log(local_stack: LocalStack, tmp_path: Path) -> None:
    bad = ApiProcess(
        local_stack, log_dir=str(tmp_path), extra_env={"CURSOR_SECRET_ID": ""}, startup_timeout=30
    )
    started = time.monotonic()
    with pytest.raises(Exception, match=r"exited|did not answer"):
        bad.start()
    assert time.monotonic() - started < 60
