"""The parse pool: objects in order, parsed ahead, within the in-flight budget."""

import pytest

from todo_lake_testing import synthetic
from todo_silver.bronze import BronzeObject, BronzeSource
from todo_silver.prefetch import ParsePool, PreparedEvents
from todo_silver.staging import StagingArea

EVENTS = list(synthetic.workload(2, 3, 2, 1735689600000))


class _Source(BronzeSource):
    location = "memory://"

    def __init__(self, bodies):
        self.bodies = bodies
        self.reads = []

    def list(self):
        return [BronzeObject(k, len(v), "cdc") for k, v in sorted(self.bodies.items())]

    def read(self, key):
        self.reads.append(key)
        return self.bodies[key]


def _source(count=6):
    groups = synthetic.split(EVENTS, max(1, len(EVENTS) // count))
    return _Source({f"cdc/{i:03d}": synthetic.encode(g) for i, g in enumerate(groups)})


def test_objects_come_back_in_order_and_parsed():
    source = _source()
    objects = source.list()
    with ParsePool(source, objects, threads=2, max_bytes=1) as pool:
        results = [pool.take(o) for o in objects]
    assert all(isinstance(r, PreparedEvents) for r in results)
    assert sum(r.parsed.table.num_rows for r in results) == len(EVENTS)
    assert all(r.rows.events is not None and r.rows.tasks is not None for r in results)
    assert not any(r.rows.declined for r in results)


def test_in_flight_json_stays_within_the_budget():
    source = _source()
    objects = source.list()
    budget = 2 * max(o.size for o in objects)
    with ParsePool(source, objects, threads=2, max_bytes=budget) as pool:
        for obj in objects:
            pool.take(obj)
            assert pool._in_flight <= budget


def test_rows_go_to_the_staging_area_when_given(tmp_path):
    source = _source()
    objects = source.list()
    staging = StagingArea(str(tmp_path), "task_events", "event_date")
    with ParsePool(source, objects, threads=2, staging=staging) as pool:
        results = [pool.take(o) for o in objects]
    assert all(r.staged and r.rows.events is None for r in results)
    staged = sum(staging.read(v).num_rows for v in staging.values())
    assert staged == staging.rows == sum(1 for e in EVENTS if e["entity_type"] == "task")


def test_taking_out_of_order_is_an_error():
    source = _source()
    objects = source.list()
    with ParsePool(source, objects, threads=1) as pool, pytest.raises(LookupError):
        pool.take(objects[1])
