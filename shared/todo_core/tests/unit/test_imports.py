"""Lambdas import todo_core on every cold start: it must stay light."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "fastapi", "numpy", "awswrangler")
MODULES = (
    "todo_core",
    "todo_core.keys",
    "todo_core.naming",
    "todo_core.lake",
    "todo_core.models",
    "todo_core.attributes",
    "todo_core.events",
    "todo_core.cursor",
    "todo_core.errors",
    "todo_core.repository",
)


def test_importing_todo_core_pulls_in_no_heavy_library() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_importing_todo_core_does_not_import_boto3() -> None:
    """The repository takes a client; the library itself never needs boto3."""
    code = (
        "import sys, todo_core.repository, todo_core.events\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
