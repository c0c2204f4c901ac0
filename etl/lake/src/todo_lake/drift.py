"""Type drift: the one rule for a column whose values change JSON type.

Item attributes are free-form: another writer may store ``points`` as a
number today and as text tomorrow. A column has one type, so the rule is:

* a column's type is set by its first values;
* when values of another type arrive, the column is **widened to text**:
  every value becomes its JSON text (a string stays as it is, ``3`` becomes
  ``"3"``, ``{"n": 3}`` becomes ``'{"n":3}'``), nothing is dropped;
* the rule applies wherever values meet: records of one bronze object,
  objects of one run, and a run's rows against the table's files;
* one schema per table (:func:`widen`), kept with the table: every file is
  written with exactly that schema (:func:`conform`), the catalog holds its
  types, and when it changes the table's older files are rewritten to it,
  so every reader (the jobs, awswrangler with its schema validation, Athena)
  sees one type per column. :mod:`todo_lake.store` writes, registers and
  reads by it.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

import pyarrow as pa

from todo_core import attributes


def json_text(value: Any) -> Any:
    """One value as text: None and strings as they are, anything else as compact JSON
    (numbers exact)."""
    if value is None or isinstance(value, str):
        return value
    try:
        return attributes.dumps(value)
    except (TypeError, ValueError):  # datetimes, bytes... from a typed column
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def as_text(values: Any) -> pa.Array:
    """A column's values as text (:func:`json_text`); text columns unchanged."""
    if pa.types.is_string(values.type):
        return values if isinstance(values, pa.Array) else values.combine_chunks()
    if pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    return pa.array([json_text(v) for v in values.to_pylist()], pa.string())


def widen(target: Optional[pa.Schema], schema: pa.Schema) -> pa.Schema:
    """The table's schema once ``schema``'s columns are written into it.

    New columns are appended with their type; a column whose values arrive
    with another type is widened to text; a column without values yet (null
    type) changes nothing.
    """
    fields: Dict[str, pa.Field] = {f.name: f for f in target} if target is not None else {}
    for field in schema:
        if pa.types.is_null(field.type):
            continue
        known = fields.get(field.name)
        if known is None:
            fields[field.name] = pa.field(field.name, field.type)
        elif known.type != field.type and not pa.types.is_string(known.type):
            fields[field.name] = pa.field(field.name, pa.string())
    return pa.schema(list(fields.values()))


def conform(table: pa.Table, target: pa.Schema) -> pa.Table:
    """``table`` with exactly ``target``'s columns, in its order, with its types:
    a missing column is null, a column widened to text holds its values' JSON text."""
    extra = [name for name in table.column_names if target.get_field_index(name) < 0]
    if extra:
        raise ValueError(f"columns {extra} are not in the table's schema")
    columns = []
    for field in target:
        if field.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        values = table.column(field.name)
        if values.type != field.type:
            values = as_text(values) if pa.types.is_string(field.type) else values.cast(field.type)
        columns.append(values)
    return pa.Table.from_arrays(columns, schema=target)
