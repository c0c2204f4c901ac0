"""Artifacts: located before anything is declared; a missing one names the build command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from harness import (
    DUMMY_GLUE_PINS,
    DUMMY_GLUE_SPARK_PINS,
    REPO_ROOT,
    cli_config,
    run_program,
    stack_file_config,
    write_dummy_artifacts,
)

from todo_platform.artifacts import (
    BUILD_COMMAND,
    DEPLOYABLES,
    ETL_GOLD,
    ETL_SILVER,
    GLUE_MANIFEST,
    TODO_API,
    ArtifactMissing,
    glue_dir,
    glue_spark_dir,
    lambda_zip_path,
    locate,
)


def test_locates_every_artifact(tmp_path: Path) -> None:
    found = locate(write_dummy_artifacts(tmp_path))
    assert set(found.lambda_zips) == {
        "todo-api",
        "todo-cdc-processor",
        "todo-metrics-collector",
        "todo-kpi-aggregator",
    }
    assert found.lambda_zip(TODO_API) == tmp_path / "lambda" / "todo-api.zip"
    silver = found.glue_job(ETL_SILVER)
    assert silver.script == tmp_path / "glue" / "todo-etl-silver" / "todo_silver_job.py"
    assert [silver.key(w) for w in silver.wheels] == [
        "wheels/todo_core-0.1.0-py3-none-any.whl",
        "wheels/todo_etl_silver-0.1.0-py3-none-any.whl",
    ]
    assert silver.pins == DUMMY_GLUE_PINS


def test_locates_the_spark_bundle_of_every_job_that_has_a_spark_entry(tmp_path: Path) -> None:
    found = locate(write_dummy_artifacts(tmp_path))
    assert set(found.glue_spark) == {"todo-etl-silver", "todo-etl-gold"}
    gold = found.glue_spark_job(ETL_GOLD)
    assert (
        gold.script
        == tmp_path / "glue-spark" / "todo-etl-gold" / "todo_lake_spark_gold_job_main.py"
    )
    assert sorted(gold.key(w).split("/")[1].split("-")[0] for w in gold.wheels) == [
        "todo_core",
        "todo_etl_gold",
        "todo_etl_silver",
        "todo_lake",
        "todo_lake_spark",
    ]
    assert gold.pins == DUMMY_GLUE_SPARK_PINS


def test_a_missing_spark_bundle_is_named(tmp_path: Path) -> None:
    write_dummy_artifacts(tmp_path)
    (glue_spark_dir(tmp_path, ETL_SILVER) / GLUE_MANIFEST).unlink()
    with pytest.raises(ArtifactMissing, match="Glue Spark bundle of todo-etl-silver") as caught:
        locate(tmp_path)
    assert "todo-etl-gold" not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"module": "todo_silver.job"}, "expected 'todo_lake_spark.silver_job:main'"),
        ({"python_version": "3.9"}, "built for Python 3.9"),
    ],
)
def test_a_spark_manifest_that_disagrees_is_rejected(
    tmp_path: Path, changes: dict, message: str
) -> None:
    write_dummy_artifacts(tmp_path)
    path = glue_spark_dir(tmp_path, ETL_SILVER) / GLUE_MANIFEST
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    with pytest.raises(ArtifactMissing, match=re.escape(message)):
        locate(tmp_path)


def test_an_empty_directory_lists_everything_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing) as caught:
        locate(tmp_path)
    message = str(caught.value)
    assert BUILD_COMMAND == "python3 noxfile.py -s build"
    assert BUILD_COMMAND in message
    for deployable in DEPLOYABLES:
        assert deployable.package in message
    assert str(lambda_zip_path(tmp_path, TODO_API)) in message
    assert str(glue_dir(tmp_path, ETL_SILVER) / GLUE_MANIFEST) in message


def test_one_missing_zip_is_named(tmp_path: Path) -> None:
    write_dummy_artifacts(tmp_path)
    lambda_zip_path(tmp_path, TODO_API).unlink()
    with pytest.raises(ArtifactMissing, match=r"lambda/todo-api\.zip") as caught:
        locate(tmp_path)
    assert "todo-cdc-processor" not in str(caught.value)


def rewrite_manifest(tmp_path: Path, **changes: object) -> None:
    path = glue_dir(tmp_path, ETL_SILVER) / GLUE_MANIFEST
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_a_glue_build_must_match_its_manifest(tmp_path: Path) -> None:
    write_dummy_artifacts(tmp_path)
    directory = glue_dir(tmp_path, ETL_SILVER)
    (directory / "todo_silver_job.py").write_text("# edited after the build\n")
    with pytest.raises(ArtifactMissing, match="does not match its sha256"):
        locate(tmp_path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"module": "todo_silver.other"}, "expected 'todo_silver.job'"),
        ({"python_version": "3.12"}, "built for Python 3.12"),
        ({"wheels": []}, "lists no wheels"),
        ({"wheels": [{"file": "wheels/gone.whl", "sha256": "0"}]}, "gone.whl"),
    ],
)
def test_a_glue_manifest_that_disagrees_is_rejected(
    tmp_path: Path, changes: dict, message: str
) -> None:
    write_dummy_artifacts(tmp_path)
    rewrite_manifest(tmp_path, **changes)
    with pytest.raises(ArtifactMissing, match=re.escape(message)):
        locate(tmp_path)


def test_the_manifest_contract_matches_the_glue_builder() -> None:
    """The builder (todo_artifacts.glue_artifact) writes what locate() reads."""
    builder = REPO_ROOT / "platform" / "artifacts" / "src" / "todo_artifacts" / "glue_artifact.py"
    source = builder.read_text()
    assert f'"{GLUE_MANIFEST}"' in source
    spark_source = builder.with_name("glue_spark_artifact.py").read_text()
    for key in (
        '"module"',
        '"python_version"',
        '"script"',
        '"wheels"',
        '"python_modules"',
        '"sha256"',
        '"file"',
    ):
        assert key in source, key
        assert key in spark_source, key


def test_the_program_fails_before_declaring_anything(tmp_path: Path) -> None:
    with pytest.raises(ArtifactMissing, match=r"python3 noxfile\.py -s build"):
        run_program("dev", cli_config(stack_file_config("dev")), tmp_path)


def test_handlers_and_modules_come_from_deployables_toml() -> None:
    """deployables.toml (read by the noxfile too) is the one list of what runs in AWS."""
    import tomllib

    listed = tomllib.loads((REPO_ROOT / "deployables.toml").read_text())["package"]
    entries = {
        p["name"]: p.get("lambda_handler") or p.get("glue_module")
        for p in listed
        if p.get("lambda_handler") or p.get("glue_module")
    }
    assert {d.package: d.entry for d in DEPLOYABLES} == entries
    spark_entries = {
        p["name"]: p["glue_spark_module"] for p in listed if p.get("glue_spark_module")
    }
    assert {d.package: d.spark_entry for d in DEPLOYABLES if d.spark_entry} == spark_entries
    assert spark_entries == {
        "todo-etl-silver": "todo_lake_spark.silver_job:main",
        "todo-etl-gold": "todo_lake_spark.gold_job:main",
    }
    for deployable in DEPLOYABLES:
        expected = "lambda" if deployable.entry.endswith(".lambda_handler") else "glue"
        assert deployable.kind == expected, deployable.package
    assert len({d.key for d in DEPLOYABLES}) == len(DEPLOYABLES)


def test_a_deployable_without_a_resource_key_is_refused(tmp_path: Path) -> None:
    from todo_platform.artifacts import load_deployables

    listing = tmp_path / "deployables.toml"
    listing.write_text(
        '[[package]]\nname = "todo-core"\npath = "shared/todo_core"\n'
        'pythons = ["3.12"]\nworkspace = "root"\nlambda_handler = "x.handler"\n'
    )
    with pytest.raises(ValueError, match="resource-key"):
        load_deployables(listing)


def test_the_repositorys_own_build_if_there_is_one() -> None:
    """After `python3 noxfile.py -s build`, the real dist/ satisfies the program."""
    from todo_platform.config import DEFAULT_ARTIFACTS_DIR

    if (
        not (DEFAULT_ARTIFACTS_DIR / "lambda").is_dir()
        or not (DEFAULT_ARTIFACTS_DIR / "glue").is_dir()
    ):
        pytest.skip("no build in dist/")
    found = locate(DEFAULT_ARTIFACTS_DIR)
    for deployable in DEPLOYABLES:
        if deployable.kind == "glue":
            assert found.glue_job(deployable).pins
        if deployable.spark_entry:
            pins = found.glue_spark_job(deployable).pins
            assert pins
            assert not any(p.startswith(("pyspark==", "py4j==")) for p in pins)
