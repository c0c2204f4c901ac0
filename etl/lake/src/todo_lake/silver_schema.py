"""Silver's tables and their columns: the one place that spells them.

Silver's writers (the Arrow and SQL transforms and the request-log reader
in ``todo_silver``) and silver's readers (``todo_gold``) take the names,
the types and the keys of silver's columns from here. Types are DuckDB SQL
type names, the language silver's reference transform is written in;
:func:`arrow_type` gives the Arrow type each one is stored as in Parquet.

Images are free-form DynamoDB items. Known attributes get fixed types; any
other attribute becomes a column of its own (schema evolution), named in
lower case with only ``[a-z0-9_]`` (Glue and Athena fold case, and upper-case
names break Glue schema updates).
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Sequence, Tuple

import pyarrow as pa

from todo_core import keys, lake

#: The SQL types silver uses, and how each is stored.
ARROW_TYPES: Dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
    "VARCHAR[]": pa.list_(pa.string()),
}

#: Known task attributes and their types in silver.
TASK_ATTRIBUTES: Dict[str, str] = {
    "title": "VARCHAR",
    "description": "VARCHAR",
    "status": "VARCHAR",
    "priority": "VARCHAR",
    "category": "VARCHAR",
    "due_date": "DATE",
    "created_at": "TIMESTAMP",
    "updated_at": "TIMESTAMP",
    "completed_at": "TIMESTAMP",
    "version": "BIGINT",
}
USER_ATTRIBUTES: Dict[str, str] = {
    "email": "VARCHAR",
    "given_name": "VARCHAR",
    "family_name": "VARCHAR",
    "created_at": "TIMESTAMP",
    "last_seen_at": "TIMESTAMP",
    "version": "BIGINT",
}
#: Item attributes that are not data: keys, index keys, the entity marker and
#: ids that the keys already carry.
NOT_DATA: FrozenSet[str] = frozenset(keys.TABLE_SPEC.attributes) | {
    "entity_type",
    "task_id",
    "user_id",
    keys.TTL_ATTRIBUTE,
}
#: Attributes that change on every write, so they are not "changed fields".
ALWAYS_CHANGING: FrozenSet[str] = frozenset({"updated_at", "version", "last_seen_at"})

#: ``task_events``: the columns silver computes for every task change (the
#: task's attributes follow them).
TASK_EVENT_COLUMNS: Dict[str, str] = {
    "event_id": "VARCHAR",
    "event_name": "VARCHAR",
    "user_id": "VARCHAR",
    "task_id": "VARCHAR",
    "sequence_number": "VARCHAR",
    "event_time": "TIMESTAMP",
    "event_date": "VARCHAR",
    "changed_fields": "VARCHAR[]",
    "status_from": "VARCHAR",
    "status_to": "VARCHAR",
    "status_changed": "BOOLEAN",
    "is_deleted": "BOOLEAN",
}
#: ``tasks`` and ``users`` (current state): the bookkeeping columns of a
#: state row (the entity's attributes go with them; ``users`` has no task_id).
STATE_COLUMNS: Dict[str, str] = {
    "user_id": "VARCHAR",
    "task_id": "VARCHAR",
    "sequence_number": "VARCHAR",
    "last_event_time": "TIMESTAMP",
    "is_deleted": "BOOLEAN",
    "deleted_at": "TIMESTAMP",
    "created_date": "VARCHAR",
}
#: ``task_events`` columns that are not part of a task's state (a state row
#: has ``last_event_time`` where an event has ``event_time``).
EVENT_ONLY: Tuple[str, ...] = tuple(
    c for c in TASK_EVENT_COLUMNS if c not in STATE_COLUMNS and c != "event_time"
)
#: ``api_requests``: one row per API request, from the API's structured logs.
API_REQUEST_COLUMNS: Dict[str, str] = {
    "request_id": "VARCHAR",
    "request_time": "TIMESTAMP",
    "operation": "VARCHAR",
    "status_code": "BIGINT",
    "duration_ms": "DOUBLE",
    "user_id": "VARCHAR",
    "method": "VARCHAR",
    "path": "VARCHAR",
    "level": "VARCHAR",
    "service": "VARCHAR",
    "is_error": "BOOLEAN",
    "request_date": "VARCHAR",
}

#: Columns silver computes itself; an item attribute with one of these names
#: is renamed ``attr_<name>`` so it cannot shadow them.
RESERVED: FrozenSet[str] = frozenset(TASK_EVENT_COLUMNS) | frozenset(STATE_COLUMNS)

#: Partition columns.
TASK_EVENTS_PARTITION = "event_date"
STATE_PARTITION = "created_date"
API_REQUESTS_PARTITION = "request_date"

#: What identifies a row: a task, a user, a change (the item's key and its
#: sequence number), a request.
TASK_KEY: Tuple[str, ...] = ("user_id", "task_id")
USER_KEY: Tuple[str, ...] = ("user_id",)
EVENT_KEY: Tuple[str, ...] = ("user_id", "task_id", "sequence_number")
REQUEST_KEY: Tuple[str, ...] = ("request_id", "operation", "status_code")

#: Which state row of an item is current, best first. Sequence numbers order
#: changes within one stream only: a restore or a stream re-enable starts a
#: new stream with smaller numbers. So an item with a ``version`` (tasks and
#: user profiles: +1 on every write) is ordered by it; at equal versions a
#: delete (which carries the version it deleted) is later than the update
#: that made it; then the sequence number. A row without a version (a profile
#: written before profiles had one) ranks as version 0, below every written
#: one (nulls last). Rows of a table without a version column: the sequence
#: number, then a delete over an update with the same number.
ORDER_VERSIONED: Tuple[str, ...] = ("version", "is_deleted", "sequence_number")
ORDER_UNVERSIONED: Tuple[str, ...] = ("sequence_number", "is_deleted")


def state_order(columns: Sequence[str]) -> Tuple[str, ...]:
    """The columns that order an item's state rows (all descending), for rows with ``columns``."""
    return ORDER_VERSIONED if ORDER_VERSIONED[0] in columns else ORDER_UNVERSIONED


#: Sequence numbers are zero-padded to this width so text order is numeric order.
SEQUENCE_WIDTH = 40

_NOT_ALLOWED = re.compile(r"[^a-z0-9_]+")


def column_name(attribute: str) -> str:
    """A safe, lower-case column name for an item attribute."""
    name = _NOT_ALLOWED.sub("_", attribute.strip().lower()).strip("_") or "attr"
    if name[0].isdigit():
        name = "attr_" + name
    if name in RESERVED:
        name = "attr_" + name
    return name


def table_columns(table: str) -> Dict[str, str]:
    """Every known column of a silver table with its type (attributes silver
    does not know yet aside: they become columns as they appear)."""
    if table == lake.SILVER_TASK_EVENTS:
        return {**TASK_EVENT_COLUMNS, **TASK_ATTRIBUTES}
    if table == lake.SILVER_TASKS:
        return {**STATE_COLUMNS, **TASK_ATTRIBUTES}
    if table == lake.SILVER_USERS:
        state = {k: v for k, v in STATE_COLUMNS.items() if k != "task_id"}
        return {**state, **USER_ATTRIBUTES}
    if table == lake.SILVER_API_REQUESTS:
        return dict(API_REQUEST_COLUMNS)
    raise KeyError(f"not a silver table: {table!r}")


def arrow_type(sql_type: str) -> pa.DataType:
    """How a column of this SQL type is stored."""
    return ARROW_TYPES[sql_type]


def sql_type(kind: pa.DataType) -> str:
    """The SQL type of a column stored as ``kind`` (the inverse of :func:`arrow_type`)."""
    for name, stored in ARROW_TYPES.items():
        if stored == kind:
            return name
    raise KeyError(f"no silver SQL type is stored as {kind}")


def arrow_columns(table: str, names: Sequence[str]) -> Dict[str, pa.DataType]:
    """The Arrow types of some columns of a silver table (a reader's inputs)."""
    known = table_columns(table)
    missing = [n for n in names if n not in known]
    if missing:
        raise KeyError(f"{table} has no column {', '.join(missing)}")
    return {name: arrow_type(known[name]) for name in names}


def arrow_schema(columns: Dict[str, str]) -> pa.Schema:
    """An Arrow schema for ``{column: SQL type}``."""
    return pa.schema([(name, arrow_type(kind)) for name, kind in columns.items()])
