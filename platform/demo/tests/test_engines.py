"""Which processes step 5 runs on each engine (the whole demo on Spark runs in
the Spark package's suite and in `nox -s demo-small-spark`)."""

from __future__ import annotations

from typing import List

import pytest

from todo_demo.driver import DemoFailed
from todo_demo.pipeline import etl_steps


def arguments(gold: bool = False) -> List[str]:
    return ["--SILVER_BUCKET", "s"] + (["--AS_OF", "now"] if gold else [])


def test_duckdb_runs_the_python_shell_jobs_in_the_etl_environment():
    silver, gold = etl_steps("duckdb", "/etl/python", None, arguments, "bronze", "file:///l")
    assert [(s.python, s.args[:2]) for s in silver] == [("/etl/python", ["-m", "todo_silver.job"])]
    assert [(s.python, s.args[:2]) for s in gold] == [("/etl/python", ["-m", "todo_gold.job"])]
    assert "--LAKE_ROOT" not in gold[0].args
    assert "--AS_OF" in gold[0].args


def test_spark_mirrors_bronze_then_runs_the_spark_jobs_on_the_local_lake():
    silver, gold = etl_steps(
        "spark", "/etl/python", "/spark/python", arguments, "bronze", "file:///l"
    )
    assert [s.args[1] for s in silver] == [
        "todo_lake_spark.gold_lake",
        "todo_lake_spark.silver_job",
    ]
    assert silver[0].args[2:] == ["bronze", "file:///l"]
    assert [s.args[1] for s in gold] == ["todo_lake_spark.gold_job"]
    assert {s.python for s in silver + gold} == {"/spark/python"}
    for step in silver[1:] + gold:
        assert step.args[-2:] == ["--LAKE_ROOT", "file:///l"]
    assert "--AS_OF" in gold[0].args


@pytest.mark.parametrize(
    ("engine", "spark_python", "message"),
    [("spark", None, "--spark-python"), ("athena", "/p", "ENGINE must be one of")],
)
def test_an_engine_the_demo_cannot_run_fails_before_anything_runs(engine, spark_python, message):
    with pytest.raises(DemoFailed, match=message):
        etl_steps(engine, "/etl/python", spark_python, arguments, "bronze", "file:///l")
