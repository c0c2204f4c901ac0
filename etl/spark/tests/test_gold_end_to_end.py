"""Bronze -> silver -> gold on Spark publishes the gold the Python-shell jobs
publish from the same bronze: the same catalog entries, files and rows."""

from __future__ import annotations

import boto3
import pytest
from gold_support import AS_OF, GoldLake, event_logs
from hypothesis import HealthCheck, given, settings

from todo_lake_spark import gold_job, silver_job
from todo_lake_spark.gold_lake import mirror_bucket
from todo_local.stack import glue_job_arguments

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gold_lake(local_stack, spark, tmp_path_factory):
    return GoldLake(local_stack, spark, str(tmp_path_factory.mktemp("lake")))


def spark_pipeline(lake: GoldLake) -> None:
    """The Glue Spark jobs, as Glue runs them, over bronze mirrored into the lake root."""
    mirror_bucket(boto3.client("s3"), lake.names.bronze_bucket, lake.lake_root)
    arguments = [*glue_job_arguments(lake.names, PUBLISH_METRICS="false"), "--LAKE_ROOT", lake.root]
    assert silver_job.main(arguments) == 0
    assert gold_job.main([*arguments, "--AS_OF", AS_OF.isoformat()]) == 0


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(log=event_logs())
def test_spark_pipeline_publishes_the_python_shell_gold(gold_lake, log):
    gold_lake.empty()
    gold_lake.clear_root()
    gold_lake.put(log)
    spark_pipeline(gold_lake)
    spark = gold_lake.gold_state()

    gold_lake.empty()  # bronze, silver's catalog and gold: the other engine starts afresh
    gold_lake.put(log)
    gold_lake.silver()
    gold_lake.gold("duckdb")
    shell = gold_lake.gold_state()

    assert spark.rows == shell.rows
    assert spark.catalog == shell.catalog
    assert spark.keys == shell.keys
