"""Each package's declared AWS actions cover the AWS calls its shipped code makes.

The program and ``test_permissions.py`` trust ``[tool.todo-platform] actions``;
this test keeps that list honest. From each deployable's entry module (its
Lambda handler or Glue module) it follows the imports through the monorepo's
deployable packages, finds the boto3 clients they create
(``client("<service>")``) and every operation of those services they call
(``client.put_metric_data(...)``, ``get_paginator("get_tables")``,
``self._call("query", ...)``), and maps each to its IAM action.

Limits, on purpose: calls made through ``todo_core`` (whose DynamoDB client
is handed in by the caller, so which of its operations a service uses is the
caller's choice) and through awswrangler are declared by hand and only
checked against the role, not found here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest
from harness import REPO_ROOT

from todo_platform import permissions
from todo_platform.artifacts import DEPLOYABLES, Deployable

botocore_session = pytest.importorskip("botocore.session")
from botocore import xform_name  # noqa: E402 - after the skip above

#: The deployables' own code, and the lake library both Glue jobs ship in their wheels.
#: ...and the Spark bundles (todo_lake_spark), whose entry points the jobs run on Spark.
SOURCE_ROOTS = (
    [REPO_ROOT / d.path / "src" for d in DEPLOYABLES]
    + [REPO_ROOT / "etl/lake/src"]
    + sorted({REPO_ROOT / d.spark_bundle_path / "src" for d in DEPLOYABLES if d.spark_entry})
)
#: API operations whose IAM action has another name (or none of its own).
IAM_ACTION_OF: Dict[str, Optional[str]] = {
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    # A transaction is authorised per item action (declared as such).
    "dynamodb:TransactWriteItems": None,
    "dynamodb:TransactGetItems": "dynamodb:GetItem",
}
_CLIENT = re.compile(r"client\(\s*[\"']([a-z0-9-]+)[\"']")


def module_file(module: str) -> Optional[Path]:
    parts = module.split(".")
    for root in SOURCE_ROOTS:
        path = root.joinpath(*parts)
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py")
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
    return None


def imported(module: str, path: Path) -> List[str]:
    names: List[str] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return names


def shipped_sources(entry_module: str) -> str:
    """The text of every deployable-package module reachable from the entry module."""
    seen: Dict[str, Path] = {}
    todo = [entry_module]
    while todo:
        module = todo.pop()
        path = module_file(module) if module not in seen else None
        if path is None:
            continue
        seen[module] = path
        todo += imported(module, path)
        if "." in module:
            todo.append(module.rpartition(".")[0])
    return "\n".join(p.read_text() for p in seen.values())


def called_actions(deployable: Deployable) -> Set[str]:
    entry = deployable.entry
    return called_actions_from(entry.rpartition(".")[0] if deployable.kind == "lambda" else entry)


def called_actions_from(module: str) -> Set[str]:
    text = shipped_sources(module)
    session = botocore_session.get_session()
    actions: Set[str] = set()
    for service in set(_CLIENT.findall(text)):
        for operation in session.get_service_model(service).operation_names:
            name = xform_name(operation)
            if re.search(rf"\.{name}\(|\(\s*[\"']{name}[\"']", text):
                action = f"{service}:{operation}"
                mapped = IAM_ACTION_OF.get(action, action)
                if mapped:
                    actions.add(mapped)
    return actions


@pytest.mark.parametrize("deployable", DEPLOYABLES, ids=lambda d: d.package)
def test_every_call_the_shipped_code_makes_is_declared(deployable: Deployable) -> None:
    declared = permissions.declared(deployable)
    every_engine = set(declared.actions).union(*declared.engine_actions.values())
    assert called_actions(deployable) - every_engine == set()


SPARK_JOBS = [d for d in DEPLOYABLES if d.spark_entry]


@pytest.mark.parametrize("deployable", SPARK_JOBS, ids=lambda d: d.package)
def test_every_call_the_spark_entry_point_makes_is_declared(deployable: Deployable) -> None:
    """On Spark the role is the job's declaration plus its bundle's (permissions.declared_for)."""
    declared = permissions.declared_for(deployable, spark=True)
    every_engine = set(declared.actions).union(*declared.engine_actions.values())
    module = (deployable.spark_entry or "").partition(":")[0]
    assert called_actions_from(module) - every_engine == set()


def test_the_scan_finds_calls() -> None:
    """The scan is not vacuous: it sees the calls the jobs and the CDC processor make."""
    by_package = {d.package: called_actions(d) for d in DEPLOYABLES}
    assert "firehose:PutRecordBatch" in by_package["todo-cdc-processor"]
    assert {"s3:ListBucket", "s3:DeleteObject", "cloudwatch:PutMetricData"} <= by_package[
        "todo-etl-silver"
    ]
    assert {"glue:GetTables", "glue:GetPartitions"} <= by_package["todo-etl-gold"]
