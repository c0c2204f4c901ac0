"""Silver's transforms in pyarrow compute, for the usual shape of events.

The SQL in :mod:`todo_silver.sql_transform` defines silver's rows. Running it
on DuckDB costs about as much as parsing the JSON, mostly in moving strings
between Arrow and DuckDB. For events whose images hold only known attributes
of the expected JSON types (what the API writes), the same rows are computed
here on the Arrow columns directly: attributes are zero-copy views of the
parsed images. :func:`task_events` and :func:`user_states` return None for
anything else (an unknown attribute, a number where text was expected, a
timestamp that is not UTC ISO-8601 text...), and :mod:`todo_silver.transform`
runs the SQL instead; tests check that both give the same rows.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from todo_core import keys
from todo_lake.silver_schema import (
    ALWAYS_CHANGING,
    EVENT_ONLY,
    NOT_DATA,
    SEQUENCE_WIDTH,
    TASK_ATTRIBUTES,
    USER_ATTRIBUTES,
    state_order,
)
from todo_silver.tables import one_chunk

_MS_PER_DAY = 86_400_000
_TEXT_TYPES = ("VARCHAR", "TIMESTAMP", "DATE")
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


def _struct_fields(table: pa.Table, name: str) -> Optional[Dict[str, pa.ChunkedArray]]:
    """The image's attributes as columns (zero-copy), {} when absent, None when not a struct."""
    if name not in table.column_names:
        return {}
    column = table.column(name)
    if pa.types.is_null(column.type):
        return {}
    if not pa.types.is_struct(column.type):
        return None
    out: Dict[str, pa.ChunkedArray] = {}
    for i in range(column.type.num_fields):
        field = column.type.field(i)
        chunks = []
        for parent in column.chunks:
            child = parent.field(i)
            if parent.null_count and child.null_count < parent.null_count:
                # A struct's child may hold values under a null parent: mask them.
                child = pc.if_else(parent.is_valid(), child, pa.scalar(None, field.type))
            chunks.append(child)
        out[field.name] = pa.chunked_array(chunks, field.type)
    return out


def _nulls(n: int, kind: pa.DataType = pa.null()) -> pa.ChunkedArray:
    return pa.chunked_array([pa.nulls(n, kind)], kind)


def _expected(kind: str, values: pa.ChunkedArray) -> bool:
    if pa.types.is_null(values.type):
        return True
    if kind in ("DATE", "TIMESTAMP") and pa.types.is_timestamp(values.type):
        # The JSON reader turns text like "2025-03-01" into timestamps itself.
        return values.type.tz is None
    if kind in _TEXT_TYPES:
        return pa.types.is_string(values.type)
    if kind == "BIGINT":
        return pa.types.is_int64(values.type)
    return False


def _typed(kind: str, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The value in its silver type; raises where the SQL's TRY_CAST might differ."""
    if kind == "VARCHAR":
        return values.cast(pa.string())
    if kind == "BIGINT":
        return values.cast(pa.int64())
    if kind == "DATE":
        dates = values.cast(pa.date32())
        # Only midnight is a plain date (the SQL reads other times its own way).
        if (
            pa.types.is_timestamp(values.type)
            and pc.all(pc.equal(dates.cast(values.type), values)).as_py() is False
        ):
            raise pa.ArrowInvalid("a timestamp where a date was expected")
        return dates
    if pa.types.is_null(values.type) or pa.types.is_timestamp(values.type):
        return values.cast(pa.timestamp("us"))
    # UTC ISO-8601 text ("...Z"), as the API writes it; anything else goes to SQL.
    if pc.all(pc.ends_with(values, "Z")).as_py() is False:
        raise pa.ArrowInvalid("not UTC ISO-8601 text")
    return values.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))


def _distinct(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.ChunkedArray:
    """``a IS DISTINCT FROM b`` (same types, or one of them all null)."""
    if pa.types.is_null(a.type) or pa.types.is_null(b.type):
        return pc.xor(pc.is_valid(a), pc.is_valid(b))
    if not a.null_count and not b.null_count:
        return pc.not_equal(a, b)
    either = pc.xor(pc.is_valid(a), pc.is_valid(b))
    return pc.fill_null(pc.or_kleene(pc.not_equal(a, b), either), False)


def _changed_fields(names: Sequence[str], masks: Sequence[pa.ChunkedArray], n: int) -> pa.Array:
    """Per row, the names whose mask is true, in ``names`` order."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    if not names:
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array([], pa.string()))
    matrix = np.column_stack([one_chunk(m).to_numpy(zero_copy_only=False) for m in masks]).astype(
        bool, copy=False
    )
    _, columns = np.nonzero(matrix)  # row-major: by row, then in name order
    np.cumsum(matrix.sum(axis=1, dtype=np.int32), out=offsets[1:])
    values = pa.array(list(names), pa.string()).take(pa.array(columns.astype(np.int32)))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _checked(
    table: pa.Table,
    new: Dict[str, pa.ChunkedArray],
    old: Dict[str, pa.ChunkedArray],
    known: Dict[str, str],
    other: Dict[str, str],
    rows: pa.ChunkedArray,
) -> bool:
    """True when every image attribute is known with the expected type, and the
    other entity's attributes are empty in ``rows`` (else they would be columns)."""
    n = table.num_rows
    all_rows: Optional[bool] = None
    for name in set(new) | set(old):
        if name in NOT_DATA:
            continue
        kind = known.get(name) or other.get(name)
        if kind is None:
            return False  # an attribute silver does not know yet: schema evolution, in SQL
        for image in (new, old):
            if name in image and not _expected(kind, image[name]):
                return False
        if name not in known:
            for image in (new, old):
                values = image.get(name)
                if values is None or values.null_count == n:
                    continue
                if all_rows is None:
                    all_rows = bool(pc.all(rows).as_py())
                if all_rows or pc.any(pc.and_(rows, pc.is_valid(values))).as_py():
                    return False
    return True


def _after(
    new: Dict[str, pa.ChunkedArray],
    old: Dict[str, pa.ChunkedArray],
    known: Dict[str, str],
    is_remove: pa.ChunkedArray,
    n: int,
) -> Dict[str, pa.ChunkedArray]:
    """Each known attribute after the change (before it, for a REMOVE), typed.

    As in the SQL, the value is chosen first and then cast: each value is
    parsed once (timestamps are text), not once per image.
    """
    any_remove = bool(pc.any(is_remove).as_py())
    all_remove = any_remove and bool(pc.all(is_remove).as_py())
    after: Dict[str, pa.ChunkedArray] = {}
    for name, kind in known.items():
        raw_new = None if all_remove else new.get(name)
        raw_old = old.get(name) if any_remove else None
        if not any_remove or all_remove:  # one image serves every row
            chosen = raw_old if all_remove else raw_new
            after[name] = _typed(kind, _nulls(n) if chosen is None else chosen)
        elif raw_new is None or raw_old is None or raw_new.type == raw_old.type:
            present = raw_new if raw_new is not None else raw_old
            kind_of = pa.null() if present is None else present.type
            none = pa.scalar(None, kind_of)
            chosen = pc.if_else(
                is_remove,
                none if raw_old is None else raw_old,
                none if raw_new is None else raw_new,
            )
            after[name] = _typed(kind, chosen)
        else:  # the images hold it in different types: each is cast to silver's
            after[name] = pc.if_else(is_remove, _typed(kind, raw_old), _typed(kind, raw_new))
    return after


def _keep(table: pa.Table, mask: pa.ChunkedArray) -> pa.Table:
    """``table.filter(mask)``, as zero-copy slices when the kept rows are a few runs."""
    flags = one_chunk(mask).to_numpy(zero_copy_only=False)
    edges = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
    if len(edges) > 64 or flags.sum() * 4 < len(flags):
        return table.filter(mask)  # scattered, or few rows: copying is cheaper
    bounds = [0, *edges.tolist(), len(flags)]
    pieces = [
        table.slice(start, stop - start) for start, stop in zip(bounds, bounds[1:]) if flags[start]
    ]
    if not pieces:
        return table.slice(0, 0)
    return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]


def _common(table: pa.Table) -> Tuple[pa.ChunkedArray, pa.ChunkedArray]:
    created = table.column("approximate_creation_time")
    return (
        pc.utf8_lpad(table.column("sequence_number"), SEQUENCE_WIDTH, "0"),
        pc.multiply(created, 1000).cast(pa.timestamp("us")),
    )


def task_events(table: pa.Table) -> Optional[pa.Table]:
    """The task_events rows of ``table`` (as ``sql_transform.task_events_sql`` and
    ``drop_empty_columns`` make them), or None when the SQL must decide."""
    new = _struct_fields(table, "new_image")
    old = _struct_fields(table, "old_image")
    if new is None or old is None:
        return None
    is_task = pc.equal(table.column("entity_type"), "task")
    if not _checked(table, new, old, TASK_ATTRIBUTES, USER_ATTRIBUTES, is_task):
        return None
    n = table.num_rows
    event_name = table.column("event_name")
    is_remove = pc.equal(event_name, "REMOVE")
    is_insert = pc.equal(event_name, "INSERT")
    is_modify = pc.equal(event_name, "MODIFY")
    try:
        after = _after(new, old, TASK_ATTRIBUTES, is_remove, n)
    except _CAST_ERRORS:
        return None

    tracked = [a for a in TASK_ATTRIBUTES if a not in ALWAYS_CHANGING and (a in new or a in old)]
    masks = []
    for a in tracked:
        if a not in old:
            changed = pc.is_valid(new[a])
        elif a not in new:
            changed = pc.is_valid(old[a])
        else:
            changed = _distinct(new[a], old[a])
        mask = pc.and_(is_modify, changed)
        if a in new:
            mask = pc.or_(mask, pc.and_(is_insert, pc.is_valid(new[a])))
        masks.append(mask)
    changed_fields = _changed_fields(tracked, masks, n)

    text_null = pa.scalar(None, pa.string())
    status_new = _typed("VARCHAR", new["status"] if "status" in new else _nulls(n))
    status_old = _typed("VARCHAR", old["status"] if "status" in old else _nulls(n))
    status_from = pc.if_else(is_insert, text_null, status_old)
    status_to = pc.if_else(is_remove, text_null, status_new)
    sequence, event_time = _common(table)
    created = table.column("approximate_creation_time")
    days = pc.floor(pc.divide(created.cast(pa.float64()), float(_MS_PER_DAY)))
    event_date = days.cast(pa.int32()).cast(pa.date32()).cast(pa.string())
    task_id = pc.utf8_slice_codeunits(
        pc.struct_field(table.column("keys"), keys.SK), len(keys.TASK_PREFIX)
    )
    if pc.any(pc.match_substring(task_id, "%")).as_py():
        task_id = pc.replace_substring(pc.replace_substring(task_id, "%23", "#"), "%25", "%")
    status_changed = pc.and_(pc.invert(is_remove), _distinct(status_from, status_to))
    columns: List[Tuple[str, object]] = [
        ("event_id", table.column("event_id")),
        ("event_name", event_name),
        ("user_id", table.column("user_id")),
        ("task_id", task_id),
        ("sequence_number", sequence),
        ("event_time", event_time),
        ("event_date", event_date),
        ("changed_fields", changed_fields),
        ("status_from", status_from),
        ("status_to", status_to),
        ("is_deleted", is_remove),
        *after.items(),
        ("status_changed", status_changed),
    ]
    return _keep(pa.table(dict(columns)), is_task)


def user_states(table: pa.Table) -> Optional[pa.Table]:
    """The latest user state rows of ``table`` (``sql_transform.users_sql`` then
    ``latest_sql``, after ``drop_empty_columns``), or None when the SQL must decide."""
    is_user = pc.equal(table.column("entity_type"), "user")
    if not pc.any(is_user).as_py():
        return pa.table({})  # no users: nothing to add
    table = _keep(table, is_user)
    new = _struct_fields(table, "new_image")
    old = _struct_fields(table, "old_image")
    if new is None or old is None:
        return None
    n = table.num_rows
    everything = pa.chunked_array([pa.array([True] * n, pa.bool_())])
    if not _checked(table, new, old, USER_ATTRIBUTES, TASK_ATTRIBUTES, everything):
        return None
    is_remove = pc.equal(table.column("event_name"), "REMOVE")
    try:
        after = _after(new, old, USER_ATTRIBUTES, is_remove, n)
    except _CAST_ERRORS:
        return None
    sequence, event_time = _common(table)
    rows = pa.table(
        {
            "user_id": table.column("user_id"),
            "sequence_number": sequence,
            "event_time": event_time,
            "is_deleted": is_remove,
            **after,
        }
    )
    return latest(state_rows(rows), ("user_id",))


def task_state_rows(rows: pa.Table) -> pa.Table:
    """Task state rows from task_events rows (``sql_transform.task_state_sql``)."""
    return state_rows(rows.drop_columns([c for c in EVENT_ONLY if c in rows.column_names]))


def state_rows(rows: pa.Table) -> pa.Table:
    """Current-state rows from event rows (``sql_transform.state_sql``)."""
    event_time = rows.column("event_time")
    deleted_at = pc.if_else(rows.column("is_deleted"), event_time, pa.scalar(None, event_time.type))
    if "created_at" in rows.column_names and pa.types.is_timestamp(
        rows.schema.field("created_at").type
    ):
        created = rows.column("created_at").cast(pa.date32()).cast(pa.string())
        created_date = pc.fill_null(created, "1970-01-01")
    else:
        created_date = pa.chunked_array([pa.array(["1970-01-01"] * rows.num_rows, pa.string())])
    out = rows.drop_columns(["event_time"])
    out = out.append_column("last_event_time", event_time)
    out = out.append_column("deleted_at", deleted_at)
    return out.append_column("created_date", created_date)


def latest(table: pa.Table, key: Sequence[str]) -> pa.Table:
    """One row per key, the first by :func:`todo_lake.silver_schema.state_order`
    (the version when the rows have one; ``sql_transform.latest_sql``); a
    missing version ranks lowest."""
    if table.num_rows <= 1:
        return table
    order_by = state_order(table.column_names)
    order = pc.sort_indices(
        table.select([*key, *order_by]),
        sort_keys=[(k, "ascending") for k in key] + [(c, "descending") for c in order_by],
        null_placement="at_end",
    )
    ordered = table.select(list(key)).take(order)
    n = ordered.num_rows
    first: Optional[pa.ChunkedArray] = None
    for k in key:
        column = ordered.column(k)
        differs = pc.fill_null(pc.not_equal(column.slice(1), column.slice(0, n - 1)), True)
        first = differs if first is None else pc.or_(first, differs)
    assert first is not None
    keep = pa.concat_arrays([pa.array([True]), one_chunk(first)])
    return table.take(order.filter(keep))
