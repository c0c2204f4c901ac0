"""The run's scratch space: a local directory, and a DuckDB connection (for
the SQL transform) with a memory limit that spills to that directory."""

from __future__ import annotations

import shutil
import tempfile

import duckdb
import pyarrow as pa

from todo_lake.sql import fetch_arrow


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

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def query(self, sql: str) -> pa.Table:
        return fetch_arrow(self.con, sql)

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
