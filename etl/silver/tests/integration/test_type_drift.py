"""An attribute whose type changes across runs: one rule everywhere (write,
catalog, read). The column is widened to text in the catalog and in every
file; nothing is dropped, no run gets stuck, and the tables stay readable by
the job, by awswrangler with its defaults, and under the catalog's types."""

import io
import random

import awswrangler as wr
import pyarrow.parquet as pq
import pytest
from awswrangler._data_types import pyarrow2athena

from tests.conftest import START_MS
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration

DAY = 86_400_000


def _points(lake, table):
    return {
        (r["task_id"], r.get("version")): r.get("points") for r in lake.rows(table, ("task_id",))
    }


def _readable_everywhere(lake):
    for table in ("task_events", "tasks"):
        catalog = wr.catalog.get_table_types(database=lake.database, table=table)
        for key in lake.silver.data_files(table):
            schema = pq.read_schema(io.BytesIO(lake.silver.get_bytes(key)))
            types = {f.name: pyarrow2athena(f.type) for f in schema}
            data = {k: v for k, v in catalog.items() if k not in ("event_date", "created_date")}
            assert types == data, key
        frame = wr.s3.read_parquet_table(table=table, database=lake.database)
        assert len(frame) == lake.table(table).num_rows


def test_number_then_text_on_another_item_then_on_the_same_item(lake):
    rng = random.Random(11)
    factory = synthetic.EventFactory(rng=rng)
    a = synthetic.new_task("u1", "t-a", START_MS, rng, extra={"points": 3})
    lake.put_events([[factory.task_insert(a, START_MS)]])
    lake.run()

    b = synthetic.new_task("u1", "t-b", START_MS + DAY, rng, extra={"points": "lots"})
    lake.put_events([[factory.task_insert(b, START_MS + DAY)]], start_number=10)
    assert lake.run().events_written == 1
    assert (
        wr.catalog.get_table_types(database=lake.database, table="task_events")["points"]
        == "string"
    )
    _readable_everywhere(lake)

    a2 = synthetic.updated(a, {"extra": {"points": "three"}}, START_MS + 2 * DAY)
    lake.put_events([[factory.task_modify(a, a2, START_MS + 2 * DAY)]], start_number=20)
    assert lake.run().events_written == 1
    assert lake.run().bronze_objects == 0  # a run with no new data

    assert _points(lake, "task_events") == {
        ("t-a", 1): "3",
        ("t-b", 1): "lots",
        ("t-a", 2): "three",
    }
    assert _points(lake, "tasks") == {("t-a", 2): "three", ("t-b", 1): "lots"}
    _readable_everywhere(lake)


def test_a_widening_interrupted_anywhere_is_finished_by_the_next_run(lake, monkeypatch):
    from tests.conftest import empty_lake
    from tests.faults import CrashingStore, SimulatedCrash

    rng = random.Random(12)
    factory = synthetic.EventFactory(rng=rng)
    a = synthetic.new_task("u1", "t-a", START_MS, rng, extra={"points": 3})
    b = synthetic.new_task("u1", "t-b", START_MS + DAY, rng, extra={"points": "lots"})
    first, second = [[factory.task_insert(a, START_MS)]], [[factory.task_insert(b, START_MS + DAY)]]

    lake.put_events(first)
    lake.run()
    counter = CrashingStore(monkeypatch, None)
    lake.put_events(second, start_number=10)
    lake.run()
    monkeypatch.undo()
    expected = (_points(lake, "task_events"), _points(lake, "tasks"))

    for crash_at in range(counter.steps):
        empty_lake(lake.stack)
        lake.put_events(first)
        lake.run()
        lake.put_events(second, start_number=10)
        CrashingStore(monkeypatch, crash_at)
        with pytest.raises(SimulatedCrash):
            lake.run()
        monkeypatch.undo()
        lake.run()
        assert (_points(lake, "task_events"), _points(lake, "tasks")) == expected, crash_at
        _readable_everywhere(lake)
