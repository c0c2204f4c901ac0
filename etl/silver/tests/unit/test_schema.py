"""Silver's rows have the columns and types of silver's one schema
(todo_lake.silver_schema), whichever transform made them."""

import json

import pytest

from todo_core import lake
from todo_lake import silver_schema
from todo_lake_testing import synthetic
from todo_silver.logs import parse_request_logs
from todo_silver.parse import parse_change_events
from todo_silver.transform import SilverRows, transform_declined, transform_events
from todo_silver.workspace import Workspace

START = 1735689600000


def _events():
    return parse_change_events(
        synthetic.encode(list(synthetic.workload(3, 4, 2, START, delete_every=3)))
    ).table


def _by_arrow():
    rows = transform_events(_events())
    assert not rows.declined
    return rows


def _by_sql():
    table = _events()
    declined = SilverRows(declined_tasks=table, declined_users=table)
    with Workspace(128) as ws:
        tasks, users = transform_declined(ws, [declined])
    return SilverRows(events=tasks.events, tasks=tasks.tasks, users=users.users)


def _columns(table):
    return {f.name: f.type for f in table.schema}


def _expected(name):
    return {c: silver_schema.arrow_type(t) for c, t in silver_schema.table_columns(name).items()}


@pytest.mark.parametrize("make", [_by_arrow, _by_sql], ids=["arrow", "sql"])
def test_rows_match_silver_schema(make):
    rows = make()
    assert _columns(rows.events) == _expected(lake.SILVER_TASK_EVENTS)
    assert _columns(rows.tasks) == _expected(lake.SILVER_TASKS)
    assert _columns(rows.users) == _expected(lake.SILVER_USERS)


def test_request_rows_match_silver_schema():
    line = {"request_id": "r1", "http_status": 201, "timestamp": "2025-01-01T00:00:00Z"}
    table = parse_request_logs(json.dumps(line).encode()).table()
    assert _columns(table) == _expected(lake.SILVER_API_REQUESTS)
    assert table.column("request_date").to_pylist() == ["2025-01-01"]
