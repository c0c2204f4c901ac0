"""No Lambda zip and no Glue artifact ships test code.

Every deployable in ``deployables.toml`` is built as ``nox -s build`` builds it,
and the monorepo's own code in it (its first-party packages: third-party
libraries keep their own layout) must hold no test module: no ``tests`` or
``testing`` module or package, no ``conftest``, no ``test_*`` file, no fakes.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from todo_artifacts import deployables
from todo_artifacts.glue_artifact import build_glue_artifact
from todo_artifacts.glue_spark_artifact import build_glue_spark_artifact
from todo_artifacts.lambda_artifact import build_lambda_zip, find_workspace_root

ROOT = find_workspace_root(Path(__file__).resolve().parent)
TEST_CODE = re.compile(
    r"(^|/)(tests?|testing|conftest|fakes?)(/|\.py$|\.pyc$)|(^|/)(test_|fake_)[^/]*\.py$"
)


def first_party_packages() -> List[str]:
    """Import names of every package of the monorepo (``src/<name>/``)."""
    return sorted({path.parent.name for path in ROOT.glob("*/*/src/*/__init__.py")})


def shipped_test_code(names: List[str]) -> List[str]:
    first_party = tuple(f"{name}/" for name in first_party_packages())
    return sorted(n for n in names if n.startswith(first_party) and TEST_CODE.search(n))


def test_the_pattern_finds_test_code() -> None:
    found = shipped_test_code([
        "todo_api/testing.py", "todo_api/tests/x.py", "todo_core/conftest.py",
        "todo_core/fakes.py", "todo_gold/test_job.py", "todo_silver/fake_lake.py",
        "todo_api/routes.py", "todo_gold/contest.py", "botocore/testing.py",
    ])
    assert found == [
        "todo_api/testing.py", "todo_api/tests/x.py", "todo_core/conftest.py",
        "todo_core/fakes.py", "todo_gold/test_job.py", "todo_silver/fake_lake.py",
    ]


@pytest.mark.parametrize(
    "package", deployables.lambdas(ROOT), ids=lambda p: p["name"]
)
def test_a_lambda_zip_holds_no_test_code(package: Dict[str, Any], tmp_path: Path) -> None:
    archive = build_lambda_zip(
        package["name"], ROOT / package["path"], tmp_path, bytecode="none", root=ROOT
    )
    names = zipfile.ZipFile(archive).namelist()
    assert any(n.startswith(package["lambda_handler"].split(".")[0] + "/") for n in names)
    assert shipped_test_code(names) == []


@pytest.mark.parametrize(
    "package", deployables.glue_jobs(ROOT), ids=lambda p: p["name"]
)
def test_a_glue_artifact_holds_no_test_code(package: Dict[str, Any], tmp_path: Path) -> None:
    folder = build_glue_artifact(package["name"], ROOT / package["path"], tmp_path)
    names: List[str] = [p.name for p in folder.iterdir()]
    for wheel in (folder / "wheels").glob("*.whl"):
        names += zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith(package["glue_module"].split(".")[0] + "/") for n in names)
    assert shipped_test_code(names) == []


@pytest.mark.parametrize(
    "package", deployables.glue_spark_jobs(ROOT), ids=lambda p: p["name"]
)
def test_a_glue_spark_bundle_holds_no_test_code_and_no_pyspark(
    package: Dict[str, Any], tmp_path: Path
) -> None:
    folder = build_glue_spark_artifact(
        package["name"], package["glue_spark_module"], ROOT / "etl", tmp_path
    )
    names: List[str] = [p.name for p in folder.iterdir()]
    for wheel in (folder / "wheels").glob("*.whl"):
        names += zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith(package["glue_spark_module"].split(".")[0] + "/") for n in names)
    assert shipped_test_code(names) == []
    # Glue provides Spark: neither its package nor its pin may ship.
    assert not any(n.startswith(("pyspark/", "py4j/")) for n in names)
    pins = (folder / "requirements.txt").read_text().lower().splitlines()
    assert not any(p.startswith(("pyspark==", "py4j==")) for p in pins)
