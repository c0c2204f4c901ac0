"""The Glue artifact: what Glue needs, pinned from the ETL lock, byte for byte reproducible."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from todo_artifacts import glue_artifact

ROOT = Path(__file__).resolve().parents[3]
ETL = ROOT / "etl"


def _digests(directory: Path) -> dict:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_pins_keep_only_what_applies_to_the_glue_python():
    export = "\n".join(
        [
            "-e ../shared/todo_core",
            "-e ./silver",
            "numpy==2.0.2 ; python_full_version < '3.10'",
            "numpy==2.5.5 ; python_full_version >= '3.12'",
            "colorama==0.4.6 ; sys_platform == 'win32'",
            "pandas==2.3.3",
        ]
    )
    assert glue_artifact.glue_pins(export) == ["numpy==2.0.2", "pandas==2.3.3"]
    assert [p.name for p in glue_artifact.local_requirements(export, ETL)] == [
        "silver",
        "todo_core",
    ]


@pytest.mark.skipif(not (ETL / "uv.lock").exists(), reason="needs the ETL workspace")
def test_gold_artifact_is_complete_and_reproducible(tmp_path):
    first = glue_artifact.build_glue_artifact("todo-etl-gold", ETL / "gold", tmp_path / "a")
    second = glue_artifact.build_glue_artifact("todo-etl-gold", ETL / "gold", tmp_path / "b")
    assert _digests(first) == _digests(second)

    manifest = json.loads((first / "glue-job.json").read_text())
    assert manifest["module"] == "todo_gold.job"
    assert manifest["python_version"] == "3.9"
    wheels = sorted(Path(w["file"]).name.split("-")[0] for w in manifest["wheels"])
    assert wheels == ["todo_core", "todo_etl_gold", "todo_lake"]
    pins = manifest["python_modules"]
    assert "awswrangler==3.14.0" in pins
    assert any(p.startswith("duckdb==") for p in pins)
    assert not any(p.startswith(("pytest", "moto", "hypothesis", "plotly")) for p in pins)
    assert manifest["additional_python_modules_pins"] == ",".join(pins)

    script = (first / manifest["script"]["file"]).read_text()
    assert 'runpy.run_module("todo_gold.job", run_name="__main__"' in script
    compile(script, "script", "exec")
    gold_wheel = next((first / "wheels").glob("todo_etl_gold-*.whl"))
    names = zipfile.ZipFile(gold_wheel).namelist()
    assert "todo_gold/job.py" in names
    assert "todo_gold/sql/tables/kpi_snapshot.sql" in names
    assert (first / "requirements.txt").read_text().splitlines() == pins


def test_command_line_builds_into_dist_glue_package(tmp_path, capsys):
    assert (
        glue_artifact.main(
            [
                "--package",
                "todo-etl-silver",
                "--path",
                str(ETL / "silver"),
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "todo-etl-silver" / "todo_silver_job.py").is_file()
    assert "todo-etl-silver" in capsys.readouterr().out
