"""Event rows: changed fields and status transitions, without storage."""

import json

from todo_lake_testing import synthetic
from todo_silver.parse import parse_change_events
from todo_silver.sql_transform import task_events_sql
from todo_silver.workspace import Workspace

START = 1735689600000


def _rows(events_):
    table = parse_change_events(synthetic.encode(events_)).table
    with Workspace(128) as ws:
        ws.register("ev", table)
        sql, extras = task_events_sql(table)
        return sorted(ws.query(sql).to_pylist(), key=lambda r: r["sequence_number"]), extras


def test_changed_fields_and_transitions_are_explicit():
    import random

    factory = synthetic.EventFactory(rng=random.Random(1))
    task = synthetic.new_task("u1", "t1", START, random.Random(1), category="home")
    done = synthetic.updated(task, {"status": "completed"}, START + 1000)
    renamed = synthetic.updated(done, {"title": "Renamed"}, START + 2000)
    log = [
        factory.task_insert(task, START),
        factory.task_modify(task, done, START + 1000),
        factory.task_modify(done, renamed, START + 2000),
        factory.task_remove(renamed, START + 3000),
    ]
    rows, extras = _rows(log)
    assert extras == []
    insert, complete, rename, remove = rows
    assert insert["status_from"] is None
    assert insert["status_to"] == "pending"
    assert insert["status_changed"]
    assert "title" in insert["changed_fields"]
    assert "updated_at" not in insert["changed_fields"]
    assert complete["changed_fields"] == ["status", "completed_at"]
    assert (complete["status_from"], complete["status_to"], complete["status_changed"]) == (
        "pending",
        "completed",
        True,
    )
    assert rename["changed_fields"] == ["title"]
    assert not rename["status_changed"]
    assert remove["is_deleted"]
    assert remove["status_from"] == "completed"
    assert remove["status_to"] is None
    assert remove["changed_fields"] == []
    assert remove["title"] == "Renamed"
    assert insert["task_id"] == "t1"
    assert len(insert["sequence_number"]) == 40


def test_unknown_attributes_become_lower_case_columns():
    import random

    factory = synthetic.EventFactory(rng=random.Random(2))
    task = synthetic.new_task("u1", "t1", START, random.Random(2))
    task["extra"] = {"EstimateHours": 3}
    rows, extras = _rows([factory.task_insert(task, START)])
    assert extras == ["estimatehours"]
    assert rows[0]["estimatehours"] == 3
    assert json.dumps(rows[0]["changed_fields"]).count("EstimateHours") == 1
