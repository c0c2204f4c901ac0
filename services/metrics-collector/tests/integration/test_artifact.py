"""The Lambda zip that ships: built as ``nox -s build`` builds it, unzipped into
an empty directory, imported and invoked by a bare Python 3.12 that sees only
that directory and the standard library, against the running emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any, Dict

import pytest
from kpi_stream import apply_stream
from tests.readback import read_published
from workload import Workload

from todo_core.models import utc_now
from todo_local.emulator import client_environment
from todo_local.lambda_artifact import build_lambda_zip, find_python

pytestmark = pytest.mark.integration

PACKAGE_DIR = Path(__file__).resolve().parents[2]
HANDLER = "metrics_collector.handler.lambda_handler"

# Runs inside the bare interpreter: import the handler as Lambda would (module
# path from the handler setting), check every imported module came from the
# unzipped task root or the standard library, invoke once, print the result.
CHILD = r"""
import importlib, json, sys
task_root, stdlib, handler_setting = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, task_root)
module_name, function_name = handler_setting.rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
strays = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith((task_root, stdlib))
)
result = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
print(json.dumps({"result": result, "strays": strays}))
"""


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    zip_path = build_lambda_zip("todo-metrics-collector", PACKAGE_DIR, dist)
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        root = tmp_path_factory.mktemp("task")
        archive.extractall(root)
    # The chosen source needs no data-frame library: keep it that way.
    assert not any(n.startswith(("pandas/", "pyarrow/", "numpy/")) for n in names)
    return root


def run_child(task_root: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    python = find_python("3.12")
    base = getattr(sys, "_base_executable", python) if python == sys.executable else python
    stdlib = sysconfig.get_paths()["stdlib"]
    return subprocess.run(
        # -I: no PYTHON* variables, no user site; -S: no site-packages at all.
        [base, "-I", "-S", "-c", CHILD, str(task_root), stdlib, HANDLER],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_zip_imports_and_publishes_in_a_bare_python(
    task_root: Path, local_stack: Any, repo_factory: Any, table: str, stage: str, cloudwatch: Any
) -> None:
    w = Workload(repo_factory, run_at=utc_now())
    w.seen("zip-user")
    w.create("zip-user", "z1", status="completed")
    w.create("zip-user", "z2")
    apply_stream(local_stack.client("dynamodb"), table)
    env = {
        "PATH": os.environ.get("PATH", ""),
        **client_environment(local_stack.endpoint_url),
        "STAGE": stage,
        "TABLE_NAME": table,
        "POWERTOOLS_SERVICE_NAME": "todo-metrics-collector",
        "LOG_LEVEL": "INFO",
    }

    child = run_child(task_root, env)

    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["strays"] == []
    expected = w.truth.expected(w.run_at)
    assert report["result"] == expected
    assert read_published(cloudwatch, stage=stage) == expected


def test_the_zip_fails_loudly_without_its_table(
    task_root: Path, local_stack: Any, stage: str
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        **client_environment(local_stack.endpoint_url),
        "STAGE": stage,
        "TABLE_NAME": "todo-app-data-missing",
    }

    child = run_child(task_root, env)

    assert child.returncode != 0
    assert "KpiSourceUnavailable" in child.stderr
    assert '"level":"ERROR"' in child.stdout  # the Powertools error record
