"""For any event log, gold computed on Spark is gold computed on DuckDB: the
same catalog entries, the same files (gold names them after their content)
and the same rows, from the same silver.

Both engines run gold's one SQL (Spark after sqlglot transpiled it) and
write through gold's one writer; the event logs are generated so that what
the engines used to disagree on is exercised (seconds between timestamps
with millisecond fractions, mixed-case e-mails hashed, empty categories,
changes after ``as_of``, deletes)."""

from __future__ import annotations

import pytest
from gold_support import GoldLake, event_logs
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gold_lake(local_stack, spark, tmp_path_factory):
    return GoldLake(local_stack, spark, str(tmp_path_factory.mktemp("lake")))


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(log=event_logs())
def test_spark_gold_equals_duckdb_gold(gold_lake, log):
    gold_lake.empty()
    gold_lake.put(log)
    gold_lake.silver()

    gold_lake.gold("duckdb")
    duckdb = gold_lake.gold_state()
    gold_lake.empty_gold()
    gold_lake.gold("spark")
    spark = gold_lake.gold_state()

    assert spark.rows == duckdb.rows
    assert spark.catalog == duckdb.catalog
    assert spark.keys == duckdb.keys
    assert duckdb.rows["kpi_snapshot"]  # something was computed
