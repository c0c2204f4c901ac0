"""Type drift: the one rule for a column whose values change JSON type.

Item attributes are free-form: another writer may store ``points`` as a
number today and as text tomorrow. A column has one type, so the rule is:

* a column's type is set by its first values;
* when values of another type arrive, the column is **widened to text**:
  every value becomes its JSON text (a string stays as it is, ``3`` becomes
  ``"3"``, ``{"n": 3}`` becomes ``'{"n":3}'``), nothing is dropped;
* the rule applies wherever values meet: records of one bronze object,
  objects of one run, and a run's files against the table's catalog type
  (see :mod:`todo_lake.store`, which writes, registers and reads by it).
"""

from __future__ import annotations

import json
from typing import Any

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
