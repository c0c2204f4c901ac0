"""The Spark engine and the single-worker engine (DuckDB and Arrow) make the
same silver from the same bronze: rows, schemas, catalog entries, quarantined
records, the manifest's record and the run's counts."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import HealthCheck, given, settings
from silver_histories import bronze, put_bronze
from silver_lakes import assert_same_silver, fresh_lake

pytestmark = pytest.mark.integration

#: Counts that say how an engine worked, not what it made: the events the SQL
#: transformed (all of them on Spark), and the profiles changed, which the
#: single worker counts per object or per group of objects its SQL took.
ENGINE_COUNTS = ("transformed_by_sql", "user_changes")


def _silver(stack, directory, engine, spark, arrangement):
    objects, bad, requests = arrangement
    lake = fresh_lake(stack, directory)
    put_bronze(lake, objects, bad, requests)
    counts = asdict(lake.run(engine, spark))
    for name in ENGINE_COUNTS:
        counts.pop(name)
    return lake.state(), counts


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(arrangement=bronze())
def test_both_engines_make_the_same_silver(local_stack, spark, tmp_path_factory, arrangement):
    by_duckdb = _silver(
        local_stack, str(tmp_path_factory.mktemp("duckdb")), "duckdb", spark, arrangement
    )
    by_spark = _silver(
        local_stack, str(tmp_path_factory.mktemp("spark")), "spark", spark, arrangement
    )
    assert_same_silver(by_spark[0], by_duckdb[0])
    assert by_spark[1] == by_duckdb[1]
