"""Silver column names and types: the one place that spells them.

Images are free-form DynamoDB items. Known attributes get fixed types; any
other attribute becomes a column of its own (schema evolution), named in
lower case with only ``[a-z0-9_]`` (Glue and Athena fold case, and upper-case
names break Glue schema updates).
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet

from todo_core import keys

#: Known task attributes and their DuckDB types in silver.
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

#: Columns silver computes itself; an item attribute with one of these names
#: is renamed ``attr_<name>`` so it cannot shadow them.
TASK_EVENT_COLUMNS = (
    "event_id",
    "event_name",
    "user_id",
    "task_id",
    "sequence_number",
    "event_time",
    "event_date",
    "changed_fields",
    "status_from",
    "status_to",
    "status_changed",
    "is_deleted",
)
STATE_COLUMNS = (
    "user_id",
    "task_id",
    "sequence_number",
    "last_event_time",
    "is_deleted",
    "deleted_at",
    "created_date",
)
RESERVED: FrozenSet[str] = frozenset(TASK_EVENT_COLUMNS) | frozenset(STATE_COLUMNS)

#: Partition columns.
TASK_EVENTS_PARTITION = "event_date"
STATE_PARTITION = "created_date"
API_REQUESTS_PARTITION = "request_date"
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
