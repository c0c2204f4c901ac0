"""Valid change events -> silver rows: the one entry point.

Two implementations compute the same rows. The SQL in
:mod:`todo_silver.sql_transform` defines them; :mod:`todo_silver.arrow_transform`
computes them in pyarrow compute, several times cheaper, for the usual shape
of events, and declines anything else. The choice is made here, and only
here: :func:`transform_events` tries Arrow (on the parse threads, object by
object); whatever it declines is kept and :func:`transform_declined` runs
the SQL over it once per chunk, on the run's DuckDB (a query costs
milliseconds however few rows it has). Tests check both give identical rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from todo_lake.silver_schema import TASK_KEY, USER_KEY
from todo_silver import arrow_transform
from todo_silver.sql_transform import drop_empty_columns, latest_sql, task_events_sql, users_sql
from todo_silver.workspace import Workspace

#: The name the events are registered under for the SQL.
_EVENTS = "ev"


@dataclass
class SilverRows:
    """What a set of valid change events becomes in silver."""

    #: ``task_events`` rows.
    events: Optional[pa.Table] = None
    #: The latest ``tasks`` state row per task.
    tasks: Optional[pa.Table] = None
    #: The latest ``users`` state row per user.
    users: Optional[pa.Table] = None
    #: The events whose task rows (or user rows) Arrow declined: the SQL's input.
    declined_tasks: Optional[pa.Table] = None
    declined_users: Optional[pa.Table] = None
    #: Events the SQL transformed.
    by_sql: int = 0

    @property
    def declined(self) -> bool:
        return self.declined_tasks is not None or self.declined_users is not None


def plain_lists(rows: pa.Table) -> pa.Table:
    """``changed_fields`` as ``list<string>`` whichever implementation made it."""
    index = rows.column_names.index("changed_fields")
    return rows.set_column(index, "changed_fields", rows.column(index).cast(pa.list_(pa.string())))


def task_states(events: pa.Table) -> pa.Table:
    """The latest task state row per task, from task_events rows."""
    return arrow_transform.latest(arrow_transform.task_state_rows(events), TASK_KEY)


def transform_events(table: pa.Table) -> SilverRows:
    """The silver rows of one object's valid events, by Arrow where it can."""
    out = SilverRows()
    events = arrow_transform.task_events(table)
    if events is None:
        out.declined_tasks = table
    else:
        out.events = plain_lists(events)
        out.tasks = task_states(out.events)
    users = arrow_transform.user_states(table)
    if users is None:
        out.declined_users = table
    elif users.num_rows:
        out.users = users
    return out


def transform_declined(ws: Workspace, declined: Sequence[SilverRows]) -> List[SilverRows]:
    """The silver rows of what Arrow declined, by the SQL (one query per group
    of tables whose images agree on types, see :func:`_groups`)."""
    out: List[SilverRows] = []
    tasks = [d.declined_tasks for d in declined if d.declined_tasks is not None]
    for table in _groups(tasks):
        ws.register(_EVENTS, table)
        sql, extras = task_events_sql(table, _EVENTS)
        events = plain_lists(drop_empty_columns(ws.query(sql), extras))
        ws.unregister(_EVENTS)
        out.append(SilverRows(events=events, tasks=task_states(events), by_sql=table.num_rows))
    users = [d.declined_users for d in declined if d.declined_users is not None]
    for table in _groups(users):
        profiles = table.filter(pc.equal(table.column("entity_type"), "user"))
        if not profiles.num_rows:
            continue
        ws.register(_EVENTS, profiles)
        sql, extras = users_sql(profiles, _EVENTS)
        rows = drop_empty_columns(
            ws.query(latest_sql(f"({sql})", USER_KEY, versioned=True)), extras
        )
        ws.unregister(_EVENTS)
        out.append(SilverRows(users=rows))
    return out


def _groups(tables: List[pa.Table]) -> List[pa.Table]:
    """One table for the SQL, or one per object when their images disagree on a type."""
    if not tables:
        return []
    try:
        return [pa.concat_tables(tables, promote_options="permissive")]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return tables
