"""Valid change events (Arrow) -> silver rows, in SQL on DuckDB: the definition.

The SQL is generated from the events' schema: every attribute present in the
images becomes a column, known ones with their silver type. It defines
silver's rows; :mod:`todo_silver.arrow_transform` computes the same rows
faster for the usual shape of events, and :mod:`todo_silver.transform`
decides which one runs. Nothing here touches storage.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import pyarrow as pa

from todo_core import keys
from todo_lake.silver_schema import (
    ALWAYS_CHANGING,
    EVENT_ONLY,
    NOT_DATA,
    ORDER_UNVERSIONED,
    ORDER_VERSIONED,
    SEQUENCE_WIDTH,
    TASK_ATTRIBUTES,
    USER_ATTRIBUTES,
    column_name,
)
from todo_lake.sql import quote_identifier, quote_literal


def _image_fields(table: pa.Table, image: str) -> Dict[str, pa.DataType]:
    if image not in table.column_names:
        return {}
    kind = table.schema.field(image).type
    if not pa.types.is_struct(kind):
        return {}
    return {kind.field(i).name: kind.field(i).type for i in range(kind.num_fields)}


def _typed(expr: str, sql_type: Optional[str]) -> str:
    if sql_type is None:
        return expr
    if sql_type == "TIMESTAMP":
        # ISO-8601 text names an instant: "Z" (as the API writes it) or an
        # offset ("+02:00", "-0530") other writers may use; text without one
        # is UTC. Silver stores the instant in UTC. Read as TIMESTAMPTZ and
        # rebuilt from its epoch, so no session time zone takes part.
        text = f"TRY_CAST({expr} AS VARCHAR)"
        return f"make_timestamp(epoch_us(TRY_CAST({text} AS TIMESTAMPTZ)))"
    if sql_type == "DATE":
        return f"TRY_CAST(TRY_CAST({expr} AS VARCHAR) AS DATE)"
    return f"TRY_CAST({expr} AS {sql_type})"


class _Images:
    """SQL expressions over the new and old image of an event row ``e``."""

    def __init__(self, table: pa.Table) -> None:
        self.new = _image_fields(table, "new_image")
        self.old = _image_fields(table, "old_image")

    def attributes(self, known: Dict[str, str]) -> List[str]:
        seen = [a for a in list(self.new) + list(self.old) if a not in NOT_DATA]
        ordered = list(known) + [a for a in dict.fromkeys(seen) if a not in known]
        return ordered

    def n(self, attr: str) -> str:
        return f'e."new_image".{quote_identifier(attr)}' if attr in self.new else "NULL"

    def o(self, attr: str) -> str:
        return f'e."old_image".{quote_identifier(attr)}' if attr in self.old else "NULL"

    def after(self, attr: str) -> str:
        """The attribute after the change (before it, for a REMOVE)."""
        return f"(CASE WHEN e.event_name = 'REMOVE' THEN {self.o(attr)} ELSE {self.n(attr)} END)"

    def changed(self, attr: str) -> str:
        new, old = self.n(attr), self.o(attr)
        if new == "NULL" or old == "NULL" or self.new[attr] != self.old[attr]:
            new, old = f"TRY_CAST({new} AS VARCHAR)", f"TRY_CAST({old} AS VARCHAR)"
        return f"({new} IS DISTINCT FROM {old})"


def _changed_fields(images: _Images, attributes: List[str]) -> str:
    tracked = [
        a for a in attributes if a not in ALWAYS_CHANGING and (a in images.new or a in images.old)
    ]
    if not tracked:
        return "[]::VARCHAR[]"
    inserted = ", ".join(
        f"CASE WHEN {images.n(a)} IS NOT NULL THEN {quote_literal(a)} END" for a in tracked
    )
    modified = ", ".join(
        f"CASE WHEN {images.changed(a)} THEN {quote_literal(a)} END" for a in tracked
    )
    return (
        "CASE e.event_name "
        f"WHEN 'INSERT' THEN [x FOR x IN [{inserted}] IF x IS NOT NULL] "
        f"WHEN 'MODIFY' THEN [x FOR x IN [{modified}] IF x IS NOT NULL] "
        "ELSE []::VARCHAR[] END"
    )


def _attribute_columns(images: _Images, known: Dict[str, str]) -> Tuple[List[str], List[str]]:
    """Select expressions for the image attributes, and the names of the unknown ones."""
    out: List[str] = []
    extras: List[str] = []
    used = set()
    for attr in images.attributes(known):
        name = attr if attr in known else column_name(attr)
        if name in used:
            continue  # two attributes that fold to one name: the first wins
        used.add(name)
        if attr not in known:
            if (
                attr in images.new
                and pa.types.is_null(images.new[attr])
                and (attr not in images.old or pa.types.is_null(images.old[attr]))
            ):
                continue  # no values, no type: nothing to add yet
            extras.append(name)
        out.append(f"{_typed(images.after(attr), known.get(attr))} AS {quote_identifier(name)}")
    return out, extras


def _unescape(expr: str) -> str:
    return f"replace(replace({expr}, '%23', '#'), '%25', '%')"


_COMMON = (
    f"lpad(e.sequence_number, {SEQUENCE_WIDTH}, '0') AS sequence_number, "
    "epoch_ms(e.approximate_creation_time) AS event_time"
)


def task_events_sql(table: pa.Table, source: str = "ev") -> Tuple[str, List[str]]:
    """SQL turning the events in ``source`` into task_events rows; and the extra columns."""
    images = _Images(table)
    attributes, extras = _attribute_columns(images, TASK_ATTRIBUTES)
    sk_offset = len(keys.TASK_PREFIX) + 1
    sort_key = "e." + quote_identifier("keys") + "." + quote_identifier(keys.SK)
    select = [
        "e.event_id",
        "e.event_name",
        "e.user_id",
        _unescape(f"substr({sort_key}, {sk_offset})") + " AS task_id",
        _COMMON,
        "strftime(epoch_ms(e.approximate_creation_time), '%Y-%m-%d') AS event_date",
        f"{_changed_fields(images, images.attributes(TASK_ATTRIBUTES))} AS changed_fields",
        "CASE WHEN e.event_name <> 'INSERT' THEN "
        f"TRY_CAST({images.o('status')} AS VARCHAR) END AS status_from",
        "CASE WHEN e.event_name <> 'REMOVE' THEN "
        f"TRY_CAST({images.n('status')} AS VARCHAR) END AS status_to",
        "e.event_name = 'REMOVE' AS is_deleted",
        *attributes,
    ]
    sql = f"SELECT {', '.join(select)} FROM {source} e WHERE e.entity_type = 'task'"  # noqa: S608
    # A transition is explicit: from -> to, on creation (none -> status) too.
    sql = (
        "SELECT *, event_name <> 'REMOVE' AND status_from IS DISTINCT FROM status_to "  # noqa: S608
        f"AS status_changed FROM ({sql})"
    )
    return sql, extras


def users_sql(table: pa.Table, source: str = "ev") -> Tuple[str, List[str]]:
    """SQL turning the user-profile events in ``source`` into user state rows."""
    images = _Images(table)
    attributes, extras = _attribute_columns(images, USER_ATTRIBUTES)
    select = [
        "e.user_id",
        _COMMON,
        "e.event_name = 'REMOVE' AS is_deleted",
        *attributes,
    ]
    sql = f"SELECT {', '.join(select)} FROM {source} e WHERE e.entity_type = 'user'"  # noqa: S608
    return state_sql(f"({sql})", ("user_id",)), extras


def state_sql(source: str, key: Tuple[str, ...]) -> str:
    """Current-state rows from event rows: bookkeeping columns + the creation-date partition."""
    return (
        "SELECT * EXCLUDE (event_time), event_time AS last_event_time, "  # noqa: S608
        "CASE WHEN is_deleted THEN event_time END AS deleted_at, "
        "coalesce(strftime(created_at, '%Y-%m-%d'), '1970-01-01') AS created_date "
        f"FROM {source}"
    )


def task_state_sql(source: str) -> str:
    """Task state rows from task_events rows (event-only columns dropped)."""
    inner = f"SELECT * EXCLUDE ({', '.join(EVENT_ONLY)}) FROM {source}"  # noqa: S608
    return state_sql(f"({inner})", ("user_id", "task_id"))


def latest_sql(source: str, key: Tuple[str, ...], versioned: bool = False) -> str:
    """One row per key, the first by :func:`todo_lake.silver_schema.state_order`
    (``versioned``: the rows have a version column); deletes are kept, as tombstones."""
    order = ORDER_VERSIONED if versioned else ORDER_UNVERSIONED
    return (
        f"SELECT * FROM {source} QUALIFY row_number() OVER ("  # noqa: S608
        f"PARTITION BY {', '.join(quote_identifier(k) for k in key)} "
        f"ORDER BY {', '.join(quote_identifier(c) + ' DESC NULLS LAST' for c in order)}) = 1"
    )


def drop_empty_columns(table: pa.Table, candidates: List[str]) -> pa.Table:
    """Drop extra columns with no values (their type is unknown; a later run adds them)."""
    empty = [
        c
        for c in candidates
        if c in table.column_names
        and (
            pa.types.is_null(table.schema.field(c).type)
            or table.column(c).null_count == table.num_rows
        )
    ]
    return table.drop_columns(empty) if empty else table
