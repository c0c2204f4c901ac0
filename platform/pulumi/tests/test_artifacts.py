"""Artifacts: located before anything is declared; a missing one names the build command."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from harness import REPO_ROOT, cli_config, run_program, stack_file_config, write_dummy_artifacts

from todo_platform.artifacts import (
    BUILD_COMMAND,
    DEPLOYABLES,
    ETL_SILVER,
    TODO_API,
    ArtifactMissing,
    glue_dir,
    lambda_zip_path,
    locate,
)


def test_locates_every_artifact(tmp_path: Path) -> None:
    found = locate(write_dummy_artifacts(tmp_path))
    assert set(found.lambda_zips) == {"todo-api", "todo-cdc-processor", "todo-metrics-collector"}
    assert found.lambda_zip(TODO_API) == tmp_path / "lambda" / "todo-api.zip"
    silver = found.glue_job(ETL_SILVER)
    assert silver.script == tmp_path / "glue" / "todo-etl-silver" / "silver_job.py"
    assert [w.name for w in silver.wheels] == [
        "todo_core-0.1.0-py3-none-any.whl",
        "todo_etl_silver-0.1.0-py3-none-any.whl",
    ]


def test_an_empty_directory_lists_everything_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing) as caught:
        locate(tmp_path)
    message = str(caught.value)
    assert BUILD_COMMAND == "python3 noxfile.py -s build"
    assert BUILD_COMMAND in message
    for deployable in DEPLOYABLES:
        assert deployable.package in message
    assert str(lambda_zip_path(tmp_path, TODO_API)) in message


def test_one_missing_zip_is_named(tmp_path: Path) -> None:
    write_dummy_artifacts(tmp_path)
    lambda_zip_path(tmp_path, TODO_API).unlink()
    with pytest.raises(ArtifactMissing, match=r"lambda/todo-api\.zip") as caught:
        locate(tmp_path)
    assert "todo-cdc-processor" not in str(caught.value)


def test_a_glue_directory_needs_one_script_and_wheels(tmp_path: Path) -> None:
    write_dummy_artifacts(tmp_path)
    directory = glue_dir(tmp_path, ETL_SILVER)
    (directory / "second.py").write_text("")
    with pytest.raises(ArtifactMissing, match="exactly one Glue job script"):
        locate(tmp_path)
    (directory / "second.py").unlink()
    shutil.rmtree(directory / "wheels")
    with pytest.raises(ArtifactMissing, match=r"\*\*/\*\.whl"):
        locate(tmp_path)


def test_the_program_fails_before_declaring_anything(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing, match=r"python3 noxfile\.py -s build"):
        run_program("dev", cli_config(stack_file_config("dev")), tmp_path)


def test_handlers_and_modules_agree_with_noxfile() -> None:
    """noxfile.py's PACKAGES registry is the source of the handler settings."""
    tree = ast.parse((REPO_ROOT / "noxfile.py").read_text())
    registry = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Package":
            keywords = {
                k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)
            }
            registry[node.args[0].value] = keywords.get("lambda_handler") or keywords.get(
                "glue_module"
            )  # type: ignore[attr-defined]
    for deployable in DEPLOYABLES:
        assert registry[deployable.package] == deployable.entry
    deployable_in_nox = {name for name, entry in registry.items() if entry}
    assert deployable_in_nox == {d.package for d in DEPLOYABLES}
