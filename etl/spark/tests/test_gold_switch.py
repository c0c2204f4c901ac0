"""Switching gold's engine between runs needs no migration: a Spark run after
a DuckDB run over the same silver rewrites nothing (and back), a run after
new silver publishes it whichever engine ran before, and the rules gold
keeps hold on Spark too (collapse guard, keyed pseudonyms, the job's
arguments)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil

import boto3
import pytest
from gold_support import AS_OF, GoldLake, directory_of

from todo_gold.collapse_guard import InputCollapsed
from todo_gold.pii import hmac_hex
from todo_lake.pii import hmac_key
from todo_lake_spark import gold_job
from todo_lake_spark.gold_lake import mirror_bucket
from todo_lake_spark.lake_root import LakeRoot
from todo_lake_testing import synthetic
from todo_local.stack import glue_job_arguments

pytestmark = pytest.mark.integration

DAY1_MS = int(dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
HOUR = 3_600_000


def workload(first_sequence: int = 10**20, prefix: str = "a"):
    """Two users; tasks created, completed, one deleted."""
    rng = random.Random(5)
    f = synthetic.EventFactory(first_sequence=first_sequence, rng=rng)
    user = {
        "user_id": f"u-{prefix}",
        "email": f" {prefix.upper()}@Example.com",
        "given_name": "Ann",
        "family_name": "Lee",
        "created_at": synthetic.iso(DAY1_MS),
        "last_seen_at": synthetic.iso(DAY1_MS),
    }
    one = synthetic.new_task(
        f"u-{prefix}", f"{prefix}1", DAY1_MS + HOUR + 900, rng, category="work"
    )
    done = synthetic.updated(one, {"status": "completed"}, DAY1_MS + 3 * HOUR + 100)
    two = synthetic.new_task(f"u-{prefix}", f"{prefix}2", DAY1_MS + 26 * HOUR, rng, category=None)
    other = synthetic.new_task(f"u-{prefix}x", f"{prefix}3", DAY1_MS + 50 * HOUR, rng)
    return [
        f.user_insert(user, DAY1_MS),
        f.task_insert(one, DAY1_MS + HOUR + 900),
        f.task_modify(one, done, DAY1_MS + 3 * HOUR + 100),
        f.task_insert(two, DAY1_MS + 26 * HOUR),
        f.task_remove(two, DAY1_MS + 27 * HOUR),
        f.task_insert(other, DAY1_MS + 50 * HOUR),
    ]


@pytest.fixture
def gold_lake(local_stack, spark, tmp_path):
    lake = GoldLake(local_stack, spark, str(tmp_path / "lake"))
    lake.empty()
    return lake


def nothing_rewritten(result) -> bool:
    return all(f["written"] == 0 and f["deleted"] == 0 for f in result.files.values())


def test_engines_alternate_without_rewriting_gold(gold_lake):
    gold_lake.put(workload())
    gold_lake.silver()
    first = gold_lake.gold("duckdb")
    before = gold_lake.gold_state()

    assert nothing_rewritten(gold_lake.gold("spark"))
    assert gold_lake.gold_state().keys == before.keys
    assert first.kpis == gold_lake.gold("duckdb").kpis

    # New silver: Spark publishes it over DuckDB's gold...
    gold_lake.put(workload(first_sequence=2 * 10**20, prefix="b"), number=1)
    gold_lake.silver()
    assert gold_lake.gold("spark").input_rows > 0
    state = gold_lake.gold_state()
    assert_spark_numbers(gold_lake, state)
    # ... and DuckDB, running next, finds nothing to change.
    assert nothing_rewritten(gold_lake.gold("duckdb"))
    assert gold_lake.gold_state().keys == state.keys


def assert_spark_numbers(gold_lake, state):
    """What Spark published for both workloads, worked out by hand."""
    kpi = state.only("kpi_snapshot")
    assert (kpi["total_users"], kpi["total_tasks"], kpi["completed_tasks"]) == (2, 4, 2)
    users = {r["user_id"]: r for r in state.table("user_analytics")}
    key = hmac_key(gold_lake.names.pii_hmac_secret)
    assert users["u-a"]["email"] == hmac_hex(key, "a@example.com")
    assert users["u-b"]["name"] == hmac_hex(key, "Ann Lee")
    assert users["u-ax"]["email"] is None  # no profile: nothing to pseudonymise
    [work] = [r for r in state.table("category_analytics") if r["category"] == "work"]
    # Created at 01:00:00.900, completed at 03:00:00.100: 7200 second
    # boundaries crossed (DuckDB's DATE_DIFF), 7199 whole seconds elapsed
    # (Spark's); the SQL truncates to seconds first, so 2 hours on both.
    assert work["avg_hours_to_complete"] == 2.0
    daily = {r["metric_date"]: r for r in state.table("daily_task_metrics")}
    assert daily["2025-03-02"]["tasks_deleted"] == 2


def test_spark_refuses_to_publish_a_collapsed_silver(gold_lake):
    gold_lake.put(workload())
    gold_lake.silver()
    gold_lake.gold("duckdb")
    before = gold_lake.gold_state()
    # Silver's tasks vanish from what Spark reads (a wrong or emptied bucket).
    shutil.rmtree(
        os.path.join(directory_of(gold_lake.lake_root), gold_lake.names.silver_bucket, "tasks")
    )
    later = AS_OF + dt.timedelta(hours=1)
    with pytest.raises(InputCollapsed, match="total_tasks"):
        gold_lake.gold("spark", as_of=later)
    assert gold_lake.gold_state().keys == before.keys
    # A deliberate reset publishes.
    reset = gold_lake.gold("spark", as_of=later, allow_input_collapse=True)
    assert reset.kpis["total_tasks"] == 0


def test_the_spark_job_runs_from_glue_arguments(gold_lake, capsys):
    gold_lake.put(workload())
    gold_lake.silver()
    arguments = glue_job_arguments(
        gold_lake.names, AS_OF=AS_OF.isoformat(), PUBLISH_METRICS="false"
    )
    assert gold_job.main([*arguments, "--LAKE_ROOT", gold_lake.root]) == 0
    [line] = [
        json.loads(x) for x in capsys.readouterr().out.splitlines() if "gold run complete" in x
    ]
    assert line["engine"] == "spark"
    assert line["rows_written"]["kpi_snapshot"] == 1
    assert line["silver_files"] > 0


def test_the_spark_job_refuses_another_engine(gold_lake):
    arguments = glue_job_arguments(gold_lake.names, ENGINE="duckdb")
    with pytest.raises(SystemExit, match="--ENGINE spark"):
        gold_job.main([*arguments, "--LAKE_ROOT", gold_lake.root])


def test_a_mirror_holds_exactly_the_bucket(gold_lake, tmp_path):
    s3 = boto3.client("s3")
    bucket = gold_lake.names.bronze_bucket
    s3.put_object(Bucket=bucket, Key="cdc/2025/03/01/00/a", Body=b"one")
    root = LakeRoot.parse(f"file://{tmp_path}")
    stale = tmp_path / bucket / "cdc" / "gone"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    assert mirror_bucket(s3, bucket, root) == 1
    assert (tmp_path / bucket / "cdc/2025/03/01/00/a").read_bytes() == b"one"
    assert not stale.exists()
    with pytest.raises(ValueError, match="local lake root"):
        mirror_bucket(s3, bucket, LakeRoot())
