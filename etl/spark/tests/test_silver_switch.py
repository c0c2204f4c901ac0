"""Switching engines needs no migration: a Spark run after a single-worker run
(and the reverse) ends where one engine running both ends."""

from __future__ import annotations

import pytest
from silver_histories import history, put_bronze, request_log_lines
from silver_lakes import assert_same_silver, fresh_lake

pytestmark = pytest.mark.integration


def _two_runs(stack, directory, engines, spark):
    log = history(11, steps=16)
    # The second run changes tasks the first created, and re-delivers some
    # of the first run's events.
    first, second = log[: len(log) // 2], log[len(log) // 2 :]
    lake = fresh_lake(stack, directory)
    put_bronze(lake, [first[:5], first[5:]], [1], request_log_lines(1))
    lake.run(engines[0], spark)
    put_bronze(lake, [second, first[2:4]], [0], request_log_lines(2), start=10)
    lake.run(engines[1], spark)
    return lake.state()


@pytest.mark.parametrize("engines", [("duckdb", "spark"), ("spark", "duckdb")])
def test_a_run_on_one_engine_follows_a_run_on_the_other(local_stack, spark, tmp_path, engines):
    expected = _two_runs(local_stack, str(tmp_path / "one"), ("duckdb", "duckdb"), spark)
    assert_same_silver(_two_runs(local_stack, str(tmp_path / "switched"), engines, spark), expected)
