"""Valid records whose images give an attribute different JSON types, in one
bronze object, are never quarantined: the attribute flows as JSON text (the
rule already used between objects)."""

import json
import random

from todo_lake_testing import synthetic
from todo_silver.parse import parse_change_events
from todo_silver.transform import transform_declined, transform_events
from todo_silver.workspace import Workspace

START = 1735689600000


def _log():
    rng = random.Random(3)
    factory = synthetic.EventFactory(rng=rng)
    task = synthetic.new_task("u1", "t1", START, rng)
    first = synthetic.updated(task, {"extra": {"points": 3}}, START + 1000)
    second = synthetic.updated(first, {"extra": {"points": "three"}}, START + 2000)
    third = synthetic.updated(second, {"extra": {"points": {"n": 3}}}, START + 3000)
    other = synthetic.new_task("u1", "t2", START, rng, extra={"points": [1, 2]})
    return [
        factory.task_insert(task, START),
        factory.task_modify(task, first, START + 1000),
        factory.task_modify(first, second, START + 2000),
        factory.task_modify(second, third, START + 3000),
        factory.task_insert(other, START + 4000),
    ]


def test_conflicting_attribute_types_in_one_object_are_kept_as_text():
    log = _log()
    parsed = parse_change_events(synthetic.encode(log))
    assert parsed.rejected == []
    assert parsed.table is not None
    assert parsed.table.num_rows == len(log)
    rows = transform_events(parsed.table)
    with Workspace(128) as ws:
        [rows] = transform_declined(ws, [rows]) if rows.declined else [rows]
    got = {(r["task_id"], r["version"]): r["points"] for r in rows.events.to_pylist()}
    assert got[("t1", 2)] == "3"
    assert got[("t1", 3)] == "three"
    assert json.loads(got[("t1", 4)]) == {"n": 3}
    assert json.loads(got[("t2", 1)]) == [1, 2]
