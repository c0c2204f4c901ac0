"""Helpers for Arrow tables that silver's run passes around: schemas that
evolve between objects, rows split by partition, first rows per key."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from todo_lake.drift import as_text


def one_chunk(values: pa.ChunkedArray) -> pa.Array:
    """The values as one array (zero-copy when they already are)."""
    return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)


def unify(tables: Sequence[Optional[pa.Table]]) -> Optional[pa.Table]:
    """Concatenate tables whose columns differ; missing columns become null.

    Two tables may disagree on a column's type (an attribute written as a
    number, later as text): such a column becomes JSON text in all of them.
    """
    present = [t for t in tables if t is not None and t.num_rows]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    try:
        return pa.concat_tables(present, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    types = {}
    for table in present:
        for f in table.schema:
            if not pa.types.is_null(f.type):
                types.setdefault(f.name, set()).add(f.type)
    conflicting = {name for name, kinds in types.items() if len(kinds) > 1}
    fixed = []
    for table in present:
        for name in conflicting & set(table.column_names):
            table = table.set_column(
                table.column_names.index(name), name, as_text(table.column(name))
            )
        fixed.append(table)
    return pa.concat_tables(fixed, promote_options="permissive")


def key_strings(table: pa.Table, key: Sequence[str]) -> pa.ChunkedArray:
    """One text value per row identifying its key (for set membership)."""
    parts = [pc.fill_null(table.column(k).cast(pa.string()), "\x00") for k in key]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "\x1f")


def split_by(table: pa.Table, column: str) -> Iterator[Tuple[str, pa.Table]]:
    """The rows of each value of ``column`` (which they lose), by value.

    Rows usually arrive in time order, so a value's rows are a few runs:
    those are sliced (zero-copy) rather than filtered.
    """
    values = table.column(column)
    data = table.drop_columns([column])
    n = table.num_rows
    if n == 0:
        return
    if values.null_count:
        raise ValueError(f"rows without a {column}")
    changes = pc.not_equal(values.slice(1), values.slice(0, n - 1))
    edges = np.flatnonzero(one_chunk(changes).to_numpy(zero_copy_only=False)) + 1
    if len(edges) <= 256:
        bounds = [0, *edges.tolist(), n]
        starts = values.take(pa.array(bounds[:-1])).to_pylist()
        runs: Dict[str, List[pa.Table]] = {}
        for value, start, stop in zip(starts, bounds, bounds[1:]):
            runs.setdefault(value, []).append(data.slice(start, stop - start))
        for value in sorted(runs):
            pieces = runs[value]
            yield value, pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]
        return
    for value in sorted(pc.unique(values).to_pylist()):
        yield value, data.filter(pc.equal(values, value))


def first_per_key(table: pa.Table, key: Sequence[str], order: Sequence[str]) -> Optional[pa.Table]:
    """One row per key, the lowest by ``order`` (nulls last); None when keys are unique."""
    n = table.num_rows
    for name in dict.fromkeys([key[-1], key[0]]):
        # Distinct values in one key column (the sequence number, the request
        # id) make the keys distinct: the usual answer, found cheaply.
        if pc.count_distinct(table.column(name), mode="all").as_py() == n:
            return None
    keys = key_strings(table, key)
    if pc.count_distinct(keys, mode="all").as_py() == table.num_rows:
        return None
    columns = {"__key": keys, **{f"__{i}": table.column(c) for i, c in enumerate(order)}}
    indices = pc.sort_indices(
        pa.table(columns),
        sort_keys=[(name, "ascending") for name in columns],
        null_placement="at_end",
    )
    ordered = keys.take(indices)
    n = len(ordered)
    differs = pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1))
    keep = pa.concat_arrays([pa.array([True]), one_chunk(differs)])
    return table.take(indices.filter(keep))


def with_partition(table: pa.Table, column: str, value: str) -> pa.Table:
    """``table`` with a text column holding ``value`` on every row."""
    return table.append_column(column, pa.array([value] * table.num_rows, pa.string()))
