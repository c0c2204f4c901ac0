"""Every partition with files is registered in the catalog (Athena sees only
registered partitions), even when a run died between uploading a partition's
file and registering it: the re-run de-duplicates those rows to nothing, and
still registers the partition."""

import boto3
import pytest

from tests.conftest import START_MS
from tests.faults import SimulatedCrash
from todo_lake import catalog
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration


def _registered(lake, table):
    glue = boto3.client("glue")
    values = set()
    for page in glue.get_paginator("get_partitions").paginate(
        DatabaseName=lake.database, TableName=table
    ):
        values.update(p["Values"][0] for p in page["Partitions"])
    return values


def _crash(*_args, **_kwargs):
    raise SimulatedCrash("died between upload and registration")


@pytest.mark.parametrize("first_run", [True, False])
@pytest.mark.parametrize("dies_in", ["add_partitions", "ensure_table"])
def test_a_partition_uploaded_before_a_crash_is_registered_by_the_rerun(
    lake, monkeypatch, first_run, dies_in
):
    history = list(synthetic.workload(2, 3, 2, START_MS))
    if not first_run:  # the tables exist already: only the new days are missing
        lake.put_events([history[:3]])
        lake.run()
    lake.put_events(synthetic.split(history[3:], 4), start_number=10)
    monkeypatch.setattr(catalog, dies_in, _crash)  # after the uploads, before registration
    with pytest.raises(SimulatedCrash):
        lake.run()
    monkeypatch.undo()
    lake.run()
    for table, column in (("task_events", "event_date"), ("tasks", "created_date")):
        with_files = set(lake.silver.partition_files(table, column))
        assert with_files
        assert _registered(lake, table) == with_files, table
