"""The Lambda zip that ships: built as ``nox -s build`` builds it, unzipped into
an empty directory, imported and invoked by a bare Python 3.12 that sees only
that directory and the standard library.

Two invocations: a batch of bookkeeping records (needs no network at all: the
Firehose client is never created) and the task lifecycle fixture against the
running emulator (AWS_ENDPOINT_URL), whose bronze bucket must then hold it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import EVENTS
from workload import bronze_lines

from todo_core.events import parse_json_line
from todo_local.emulator import client_environment
from todo_local.lambda_artifact import build_lambda_zip, find_python
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration

PACKAGE_DIR = Path(__file__).resolve().parents[2]
HANDLER = "cdc_processor.handler.lambda_handler"

# Runs inside the bare interpreter: import the handler as Lambda does (from the
# handler setting), check that every module came from the task root or the
# standard library, invoke once with the event file, print the response.
CHILD = r"""
import importlib, json, sys
task_root, stdlib, handler_setting, event_path = sys.argv[1:5]
sys.path.insert(0, task_root)
module_name, function_name = handler_setting.rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)

class Context:
    function_name = "todo-cdc-processor-smoke"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:todo-cdc-processor-smoke"
    memory_limit_in_mb = 256
    aws_request_id = "smoke"
    def get_remaining_time_in_millis(self):
        return 60000

with open(event_path, encoding="utf-8") as handle:
    event = json.load(handle)
response = handler(event, Context())
strays = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith((task_root, stdlib))
)
created = sys.modules[module_name]._firehose is not None
print(json.dumps({"response": response, "strays": strays, "firehose_created": created}))
"""


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    zip_path = build_lambda_zip("todo-cdc-processor", PACKAGE_DIR, dist)
    root = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        archive.extractall(root)
    assert not any(n.startswith(("pandas/", "pyarrow/", "numpy/")) for n in names)
    # Only Firehose's API model ships from botocore's data.
    services = {
        n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 3
    }
    assert services == {"firehose"}, services
    return root


def run_child(task_root: Path, event: Path, env: Dict[str, str]) -> Dict[str, Any]:
    python = find_python("3.12")
    base = getattr(sys, "_base_executable", python) if python == sys.executable else python
    stdlib = sysconfig.get_paths()["stdlib"]
    child = subprocess.run(
        # -I: no PYTHON* variables, no user site; -S: no site-packages at all.
        [base, "-I", "-S", "-c", CHILD, str(task_root), stdlib, HANDLER, str(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    result: Dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _env(**extra: str) -> Dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "STAGE": "local",
        "POWERTOOLS_SERVICE_NAME": "todo-cdc-processor",
        "POWERTOOLS_METRICS_NAMESPACE": "TodoApi/CustomMetrics",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def test_the_zip_skips_bookkeeping_without_any_network(task_root: Path) -> None:
    # No endpoint, no credentials: creating a client would be the only way to fail.
    result = run_child(
        task_root,
        EVENTS / "bookkeeping_only.json",
        _env(FIREHOSE_STREAM_NAME="todo-cdc-stream-local"),
    )

    assert result["strays"] == []
    assert result["response"] == {"batchItemFailures": []}
    assert result["firehose_created"] is False


def test_the_zip_delivers_a_batch_to_the_emulators_bronze(
    task_root: Path, local_stack: LocalStack
) -> None:
    before = set(bronze_lines(local_stack))
    env = _env(
        **client_environment(local_stack.endpoint_url),
        FIREHOSE_STREAM_NAME=local_stack.names.cdc_delivery_stream,
    )

    result = run_child(task_root, EVENTS / "task_lifecycle.json", env)

    assert result["strays"] == []
    assert result["response"] == {"batchItemFailures": []}
    fixture: List[Dict[str, Any]] = json.loads((EVENTS / "task_lifecycle.json").read_text())[
        "Records"
    ]
    new_lines = [line for line in bronze_lines(local_stack) if line not in before]
    delivered = sorted(parse_json_line(line).sequence_number for line in new_lines)
    domain = sorted(
        r["dynamodb"]["SequenceNumber"]
        for r in fixture
        if r["dynamodb"]["Keys"]["PK"]["S"].startswith(("TASK#", "USER#"))
    )
    assert delivered == domain
