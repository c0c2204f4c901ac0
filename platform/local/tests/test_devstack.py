"""DevStack and ``todo-local up``: the local stage comes up, writes its outputs
where asked, and goes away cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import boto3
import pytest

from todo_local.devstack import DevStack
from todo_local.emulator import FAKE_CREDENTIALS, port_in_use

pytestmark = pytest.mark.integration

RUNBOOK_OUTPUTS = (
    "TableName", "TableArn", "UserPoolId", "UserPoolClientId", "BronzeBucketName",
    "SilverBucketName", "GoldBucketName", "FirehoseStreamName", "GlueDatabaseName",
    "AthenaWorkgroupName",
)


def check_outputs(outputs: Dict[str, str]) -> None:
    for name in (*RUNBOOK_OUTPUTS, "AwsEndpointUrl", "Region"):
        assert outputs.get(name), name
    assert outputs["AwsEndpointUrl"].startswith("http://127.0.0.1:")
    # The outputs are enough to reach the resources, as a client would.
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=outputs["AwsEndpointUrl"],
        region_name=outputs["Region"],
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    table = ddb.describe_table(TableName=outputs["TableName"])["Table"]
    assert table["TableArn"] == outputs["TableArn"]


def test_devstack_without_api_and_runner_writes_outputs_and_stops(tmp_path: Path) -> None:
    outputs_path = tmp_path / ".local" / "outputs.json"
    stack = DevStack(
        with_api=False,
        with_stream_runner=False,
        outputs_path=str(outputs_path),
        log_dir=str(tmp_path / "logs"),
    )
    with stack:
        assert stack.emulator is not None
        port = int(stack.emulator.port or 0)
        outputs = json.loads(outputs_path.read_text())
        check_outputs(outputs)
        assert "ApiEndpoint" not in outputs
        assert stack.components == []
    assert not port_in_use(port)
    assert (tmp_path / "logs" / "emulator.log").exists()


def test_a_component_whose_module_is_absent_is_skipped_with_notice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stack = DevStack(outputs_path=None)

    def missing() -> None:
        raise ModuleNotFoundError(
            "No module named 'todo_local.not_here'", name="todo_local.not_here"
        )

    stack._optional("todo_local.not_here", missing)
    assert stack.skipped == ["todo_local.not_here"]
    assert "todo_local.not_here is not available" in capsys.readouterr().out

    def broken_inside() -> None:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    with pytest.raises(ModuleNotFoundError, match="uvicorn"):
        stack._optional("todo_local.api_process", broken_inside)


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_cli_up_runs_until_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C in a terminal signals the whole foreground process group; the
    stack still stops in order (the emulator last) and exits cleanly."""
    outputs_path = tmp_path / "outputs.json"
    env: Dict[str, Any] = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TODO_LOCAL_PORT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "todo_local.cli", "up", "--no-api", "--no-stream-runner",
         "--outputs", str(outputs_path)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal job
        # A terminal job takes Ctrl-C; a runner started in the background of a
        # script (``nohup .ci/run &``) ignores SIGINT, and its children inherit that.
        preexec_fn=_sigint_as_in_a_terminal,
    )
    try:
        deadline = time.monotonic() + 90
        while not outputs_path.exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.2)
        outputs = json.loads(outputs_path.read_text())
        check_outputs(outputs)
        port = int(outputs["AwsEndpointUrl"].rsplit(":", 1)[1])
        os.killpg(process.pid, signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, out
    assert "local stack stopped" in out
    assert '"TableName"' in out
    assert not port_in_use(port)
    assert (tmp_path / ".local" / "emulator.log").exists()
