"""The Glue Spark bundle: the Spark package and everything it needs, never pyspark."""

from __future__ import annotations

import json
import runpy
import sys
import types
import zipfile
from pathlib import Path
from typing import Dict

import pytest

from todo_artifacts import glue_spark_artifact as spark
from todo_artifacts.lambda_artifact import ArtifactError, workspace_members

ROOT = Path(__file__).resolve().parents[3]
ETL = ROOT / "etl"
SILVER_ENTRY = "todo_lake_spark.silver_job:main"


def test_pins_are_those_of_glue_5s_python() -> None:
    export = "\n".join(
        [
            "-e ./spark",
            "numpy==2.0.2 ; python_full_version < '3.10'",
            "numpy==2.2.6 ; python_full_version >= '3.10'",
            "tomli==2.2.1 ; python_full_version < '3.11'",
            "pandas==2.3.3",
        ]
    )
    assert spark.glue_pins(export, spark.GLUE_SPARK_MARKER_ENVIRONMENT) == [
        "numpy==2.2.6",
        "pandas==2.3.3",
    ]


@pytest.mark.parametrize(
    "entry", ["todo_lake_spark.silver_job", "todo_lake_spark.silver_job:", ":main", "a-b.c:main"]
)
def test_an_entry_point_must_be_module_colon_function(entry: str) -> None:
    with pytest.raises(ArtifactError, match="not a module:function"):
        spark.split_entry(entry)


def test_the_bundle_is_the_member_holding_the_entry_modules_package() -> None:
    members = workspace_members(ETL)
    assert spark.bundle_member("todo_lake_spark.silver_job", members) == (
        "todo-lake-spark",
        ETL / "spark",
    )
    with pytest.raises(ArtifactError, match="exactly one workspace member"):
        spark.bundle_member("no_such_package.job", members)


def test_pins_glue_provides_are_found() -> None:
    assert spark.provided_pins(["duckdb==1.3.2", "pyspark==3.5.6", "Py4J==0.10.9.7"]) == [
        "pyspark==3.5.6",
        "Py4J==0.10.9.7",
    ]


def test_a_bundle_that_would_ship_pyspark_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyspark as a runtime dependency would shadow Glue's Spark: the build stops first."""
    monkeypatch.setattr(
        spark, "export_requirements", lambda uv, package, root: "-e ./spark\npyspark==3.5.6\n"
    )
    with pytest.raises(ArtifactError, match=r"would ship \['pyspark==3.5.6'\]"):
        spark.build_glue_spark_artifact("todo-etl-silver", SILVER_ENTRY, ETL, "unused")


def _run_launcher(tmp_path: Path, returns: object) -> None:
    module = types.ModuleType("fake_spark_job")
    module.main = lambda: returns  # type: ignore[attr-defined]
    script = tmp_path / "launcher.py"
    script.write_text(spark.job_script("fake_spark_job:main", "todo-etl-silver"))
    sys.modules["fake_spark_job"] = module
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        del sys.modules["fake_spark_job"]


@pytest.mark.parametrize("returns", [0, None])
def test_the_launcher_returns_normally_when_the_job_succeeds(
    tmp_path: Path, returns: object
) -> None:
    """Glue marks a run SUCCEEDED when the script ends; no sys.exit on success."""
    _run_launcher(tmp_path, returns)


def test_the_launcher_fails_the_run_with_the_jobs_exit_code(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        _run_launcher(tmp_path, 3)
    assert caught.value.code == 3


@pytest.fixture(scope="module")
def silver_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spark.build_glue_spark_artifact(
        "todo-etl-silver", SILVER_ENTRY, ETL, tmp_path_factory.mktemp("glue-spark")
    )


def _wheel_files(bundle: Path) -> Dict[str, list]:
    return {
        w.name: zipfile.ZipFile(w).namelist() for w in sorted((bundle / "wheels").glob("*.whl"))
    }


def test_the_silver_bundle_is_complete(silver_bundle: Path) -> None:
    manifest = json.loads((silver_bundle / "glue-job.json").read_text())
    assert silver_bundle.name == "todo-etl-silver"
    assert manifest["module"] == SILVER_ENTRY
    assert manifest["bundle"] == "todo-lake-spark"
    assert (manifest["command"], manifest["python_version"]) == ("glueetl", "3.11")
    wheels = sorted(Path(w["file"]).name.split("-")[0] for w in manifest["wheels"])
    assert wheels == [
        "todo_core",
        "todo_etl_gold",
        "todo_etl_silver",
        "todo_lake",
        "todo_lake_spark",
    ]
    pins = manifest["python_modules"]
    assert any(p.startswith("awswrangler==") for p in pins)
    assert any(p.startswith("sqlglot==") for p in pins)
    assert manifest["additional_python_modules_pins"] == ",".join(pins)
    assert (silver_bundle / "requirements.txt").read_text().splitlines() == pins
    script = (silver_bundle / manifest["script"]["file"]).read_text()
    assert manifest["script"]["file"] == "todo_lake_spark_silver_job_main.py"
    assert 'import_module("todo_lake_spark.silver_job").main()' in script
    compile(script, "script", "exec")


def test_the_bundle_ships_no_spark_and_no_test_dependencies(silver_bundle: Path) -> None:
    """Glue provides pyspark (and py4j); the test group's tools never ship."""
    manifest = json.loads((silver_bundle / "glue-job.json").read_text())
    names = {p.split("==")[0].lower() for p in manifest["python_modules"]}
    assert names.isdisjoint({"pyspark", "py4j", "pytest", "hypothesis", "moto", "plotly"})
    for wheel, files in _wheel_files(silver_bundle).items():
        assert not wheel.lower().startswith(("pyspark", "py4j")), wheel
        assert not any(f.startswith(("pyspark/", "py4j/")) for f in files), wheel
    # The Spark package's own code is in, its tests are not.
    (lake_spark,) = [
        f for w, f in _wheel_files(silver_bundle).items() if w.startswith("todo_lake_spark-")
    ]
    assert "todo_lake_spark/session.py" in lake_spark
    assert not any("tests/" in f or "conftest" in f for f in lake_spark)


def test_the_command_line_builds_from_deployables_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        spark.main(
            ["--package", "todo-etl-gold", "--out-dir", str(tmp_path), "--repo-root", str(ROOT)]
        )
        == 0
    )
    manifest = json.loads((tmp_path / "todo-etl-gold" / "glue-job.json").read_text())
    assert manifest["module"] == "todo_lake_spark.gold_job:main"
    assert "todo-lake-spark bundle" in capsys.readouterr().out


def test_the_command_line_refuses_a_job_without_a_spark_entry(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        spark.main(["--package", "todo-api", "--out-dir", str(tmp_path), "--repo-root", str(ROOT)])
