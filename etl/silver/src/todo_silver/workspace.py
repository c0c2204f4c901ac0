"""The run's scratch space: a DuckDB connection with a memory limit that
spills to local disk, and helpers for Arrow tables with evolving schemas."""

from __future__ import annotations

import json
import shutil
import tempfile
from typing import List, Optional, Sequence

import duckdb
import pyarrow as pa

from todo_silver.transform import fetch


def as_text(values: pa.ChunkedArray) -> pa.Array:
    """Values as text: strings as they are, anything else as JSON."""
    return pa.array(
        [
            None if v is None else v if isinstance(v, str) else json.dumps(v, default=str)
            for v in values.to_pylist()
        ],
        pa.string(),
    )


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


class Workspace:
    def __init__(self, memory_mb: int, threads: int = 2) -> None:
        self.directory = tempfile.mkdtemp(prefix="todo-silver-")
        self.con = duckdb.connect(
            config={
                "memory_limit": f"{memory_mb}MB",
                "threads": threads,
                "temp_directory": self.directory,
                "preserve_insertion_order": False,
            }
        )
        self._names: List[str] = []

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)
        self._names.append(name)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def query(self, sql: str) -> pa.Table:
        return fetch(self.con, sql)

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
