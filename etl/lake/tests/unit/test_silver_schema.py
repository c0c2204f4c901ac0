"""Silver's one schema: the tables, columns and types its writers and readers share."""

import pyarrow as pa
import pytest

from todo_core import lake
from todo_lake import silver_schema as schema


def test_every_silver_table_has_its_columns_and_partition():
    partitions = {
        lake.SILVER_TASK_EVENTS: schema.TASK_EVENTS_PARTITION,
        lake.SILVER_TASKS: schema.STATE_PARTITION,
        lake.SILVER_USERS: schema.STATE_PARTITION,
        lake.SILVER_API_REQUESTS: schema.API_REQUESTS_PARTITION,
    }
    assert set(partitions) == set(lake.SILVER_TABLES)
    for table, partition in partitions.items():
        columns = schema.table_columns(table)
        assert columns[partition] == "VARCHAR", table  # Hive partition values are text
        assert all(kind in schema.ARROW_TYPES for kind in columns.values()), table


def test_keys_are_columns_of_their_tables():
    assert set(schema.EVENT_KEY) <= set(schema.table_columns(lake.SILVER_TASK_EVENTS))
    assert set(schema.TASK_KEY) <= set(schema.table_columns(lake.SILVER_TASKS))
    assert set(schema.USER_KEY) <= set(schema.table_columns(lake.SILVER_USERS))
    assert set(schema.REQUEST_KEY) <= set(schema.table_columns(lake.SILVER_API_REQUESTS))


def test_users_have_no_task_id_and_state_has_no_event_only_columns():
    assert "task_id" not in schema.table_columns(lake.SILVER_USERS)
    tasks = schema.table_columns(lake.SILVER_TASKS)
    assert schema.EVENT_ONLY == (
        "event_id",
        "event_name",
        "event_date",
        "changed_fields",
        "status_from",
        "status_to",
        "status_changed",
    )
    assert not set(schema.EVENT_ONLY) & set(tasks)


def test_a_reader_gets_arrow_types_and_a_misspelt_column_fails():
    got = schema.arrow_columns(lake.SILVER_TASKS, ["task_id", "due_date", "last_event_time"])
    assert got == {
        "task_id": pa.string(),
        "due_date": pa.date32(),
        "last_event_time": pa.timestamp("us"),
    }
    with pytest.raises(KeyError, match="tasks has no column stauts"):
        schema.arrow_columns(lake.SILVER_TASKS, ["stauts"])
    with pytest.raises(KeyError, match="not a silver table"):
        schema.table_columns("gold_thing")


def test_sql_and_arrow_types_map_both_ways():
    for sql_type, stored in schema.ARROW_TYPES.items():
        assert schema.sql_type(stored) == sql_type
        assert schema.arrow_type(sql_type) == stored
    with pytest.raises(KeyError):
        schema.sql_type(pa.float16())


@pytest.mark.parametrize(
    ("attribute", "column"),
    [
        ("EstimateHours", "estimatehours"),
        ("due date!", "due_date"),
        ("9lives", "attr_9lives"),
        ("event_id", "attr_event_id"),
        ("deleted_at", "attr_deleted_at"),
        ("***", "attr"),
    ],
)
def test_attribute_names_become_safe_column_names(attribute, column):
    assert schema.column_name(attribute) == column
