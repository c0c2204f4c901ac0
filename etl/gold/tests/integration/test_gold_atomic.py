"""Gold replaces its tables atomically for readers: a crash at any step of a
run leaves every table, as Athena reads it through the catalog, at its old
or its new version, never both; the next run finishes the job."""

import io
import random
from typing import Dict, List

import boto3
import pyarrow.parquet as pq
import pytest

from tests.conftest import at
from todo_core import lake
from todo_gold.gold_writer import GoldWriter
from todo_lake.store import LakeStore
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration


class Crash(Exception):
    pass


def athena_view(names, table: str) -> List[Dict]:
    """The rows Athena would return for ``SELECT *``: every object under the
    catalog's location (its sub-directories too), per partition for a
    partitioned table."""
    glue, s3 = boto3.client("glue"), boto3.client("s3")
    entry = glue.get_table(DatabaseName=names.glue_database, Name=table)["Table"]
    keys = [k["Name"] for k in entry.get("PartitionKeys", [])]
    if keys:
        pages = glue.get_paginator("get_partitions").paginate(
            DatabaseName=names.glue_database, TableName=table
        )
        sources = [
            (p["StorageDescriptor"]["Location"], dict(zip(keys, p["Values"])))
            for page in pages
            for p in page["Partitions"]
        ]
    else:
        sources = [(entry["StorageDescriptor"]["Location"], {})]
    rows = []
    for location, values in sources:
        bucket, _, prefix = location.replace("s3://", "").partition("/")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                for row in pq.read_table(io.BytesIO(body)).to_pylist():
                    rows.append({**row, **values})
    return sorted(rows, key=repr)


def views(names) -> Dict[str, List[Dict]]:
    return {table: athena_view(names, table) for table in lake.GOLD_TABLES}


def crash_on_call(monkeypatch, method: str, call: int) -> None:
    """Make ``GoldWriter.<method>`` raise on its ``call``-th call (1-based)."""
    original = getattr(GoldWriter, method)
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= call:
            raise Crash(f"crash in {method} (call {calls['n']})")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GoldWriter, method, failing)


def workload_then_change(pipeline):
    """The fixed workload in gold; then a third user and task reach silver."""
    from tests.conftest import fixed_workload

    pipeline.put(fixed_workload())
    pipeline.silver()
    pipeline.gold()
    f = synthetic.EventFactory(first_sequence=2 * 10**20)
    carol = {"user_id": "u-carol", "email": "c@example.com", "created_at": synthetic.iso(at(3, 8))}
    task = synthetic.new_task("u-carol", "c1", at(3, 8), random.Random(3), category="work")
    pipeline.put([f.user_insert(carol, at(3, 8)), f.task_insert(task, at(3, 8))], number=1)
    pipeline.silver()


#: Every step a run can die at: while writing the new files (after the first),
#: before any table's catalog switch, after the first table's switch, and
#: after every switch but before the replaced files are deleted.
CRASH_POINTS = [("_put", 2), ("_register", 1), ("_register", 2), ("_delete", 1)]


@pytest.mark.parametrize(("method", "call"), CRASH_POINTS, ids=lambda v: str(v))
def test_a_crash_at_any_step_leaves_readers_the_old_or_the_new_table(
    pipeline, monkeypatch, method, call
):
    workload_then_change(pipeline)
    old = views(pipeline.names)
    assert len(old[lake.GOLD_USER_ANALYTICS]) == 2

    with monkeypatch.context() as patch:
        crash_on_call(patch, method, call)
        with pytest.raises(Crash):
            pipeline.gold()
    during = views(pipeline.names)

    pipeline.gold()
    new = views(pipeline.names)
    assert len(new[lake.GOLD_USER_ANALYTICS]) == 3
    for table in lake.GOLD_TABLES:
        assert during[table] in (old[table], new[table]), table
    # SELECT COUNT(*) FROM user_analytics: never both versions' users.
    assert len(during[lake.GOLD_USER_ANALYTICS]) in (2, 3)
    # The next run leaves no file the catalog does not point at: listing a
    # table's prefix shows what the catalog shows.
    pipeline.gold()
    assert views(pipeline.names) == new
    store = LakeStore(pipeline.names.gold_bucket, pipeline.names.glue_database)
    for table in lake.GOLD_TABLES:
        assert store.read_table(table).num_rows == len(new[table]), table
