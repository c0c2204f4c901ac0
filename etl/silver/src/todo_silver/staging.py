"""Where a run's rows wait for the end of the run (:class:`RunRows`).

A staging area (:class:`StagingArea`) holds a run's rows of one output, on
local disk by partition, until the end of the run.

Each chunk's rows are split by partition value and appended, as Arrow IPC
files (written and read back at memory speed), to that partition's folder.
At the end of the run each partition is read back alone, deduplicated and
written to silver once. Memory stays bounded by a chunk while reading and by
one partition while writing, and silver gets one file per partition per run
instead of one per partition per chunk.

Schema evolution across chunks is resolved when a partition is read back:
a missing column reads as null, a column whose type differs between chunks
becomes JSON text (:func:`todo_silver.tables.unify`).
"""

from __future__ import annotations

import os
import threading
from typing import Dict, List, Optional, Tuple

import pyarrow as pa

from todo_core import lake
from todo_lake.silver_schema import (
    API_REQUESTS_PARTITION,
    TASK_EVENTS_PARTITION,
    TASK_KEY,
    USER_KEY,
)
from todo_silver import arrow_transform
from todo_silver.tables import split_by, unify

#: The staging order of every row: ties in deduplication go to the first staged.
ORDINAL = "_ordinal"


class StagingArea:
    """Thread-safe: the job's parse threads stage their objects' rows themselves."""

    def __init__(self, directory: str, name: str, partition: str) -> None:
        self.directory = os.path.join(directory, name)
        self.partition = partition
        os.makedirs(self.directory, exist_ok=True)
        self.files: Dict[str, List[str]] = {}
        self.rows = 0
        self._written = 0
        self._lock = threading.Lock()

    def add(self, table: Optional[pa.Table]) -> None:
        if table is None or table.num_rows == 0:
            return
        # A column with no values has no type yet: leave it out (it reads as null).
        table = table.drop_columns([f.name for f in table.schema if pa.types.is_null(f.type)])
        table = table.replace_schema_metadata(None)
        nulls = table.column(self.partition).null_count
        if nulls:  # not expected: partition values are computed, never null
            raise ValueError(f"{nulls} rows without a {self.partition}")
        with self._lock:
            first = self.rows
            self.rows += table.num_rows
        ordinals = pa.array(range(first, first + table.num_rows), pa.int64())
        table = table.append_column(ORDINAL, ordinals)
        for value, rows in split_by(table, self.partition):
            with self._lock:
                paths = self.files.setdefault(value, [])
                folder = os.path.join(self.directory, f"{len(self.files):06d}")
                if paths:
                    folder = os.path.dirname(paths[0])
                path = os.path.join(folder, f"{self._written:06d}.arrow")
                self._written += 1
                paths.append(path)
            os.makedirs(folder, exist_ok=True)
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, rows.schema) as writer:
                writer.write_table(rows)

    def values(self) -> List[str]:
        return sorted(self.files)

    def read(self, value: str) -> pa.Table:
        """The staged rows of one partition (without the partition column)."""
        # Memory-mapped: the rows stay in the page cache the staging write
        # filled, not copied (reading them into the heap cost about as much
        # CPU as encoding the partition's Parquet). Removing the files later
        # keeps the mapping valid until the rows are dropped.
        tables = [pa.ipc.open_file(pa.memory_map(path)).read_all() for path in self.files[value]]
        table = unify(tables)
        assert table is not None
        return table

    def remove(self, value: str) -> None:
        for path in self.files.pop(value, []):
            os.remove(path)


class LatestRows:
    """The latest row per key over everything the run has read, in memory.

    Chunks add their own latest rows; they are reduced together when they
    have doubled since the last reduction, so the cost stays linear.
    """

    def __init__(self, key: Tuple[str, ...]) -> None:
        self.key = key
        self._tables: List[pa.Table] = []
        self._rows = 0
        self._reduced = 0

    def add(self, rows: Optional[pa.Table]) -> None:
        if rows is None or rows.num_rows == 0:
            return
        self._tables.append(rows)
        self._rows += rows.num_rows
        if self._rows > max(100_000, 2 * self._reduced):
            self._reduce()

    def _reduce(self) -> None:
        combined = unify(self._tables)
        self._tables = [] if combined is None else [arrow_transform.latest(combined, self.key)]
        self._rows = self._reduced = sum(t.num_rows for t in self._tables)

    def result(self) -> Optional[pa.Table]:
        self._reduce()
        return self._tables[0] if self._tables else None


class RunRows:
    """Where a run's rows wait for the end of the run: events and requests in
    staging areas on local disk, the latest state rows in memory."""

    def __init__(self, directory: str) -> None:
        self.events = StagingArea(directory, lake.SILVER_TASK_EVENTS, TASK_EVENTS_PARTITION)
        self.requests = StagingArea(directory, lake.SILVER_API_REQUESTS, API_REQUESTS_PARTITION)
        self.tasks = LatestRows(TASK_KEY)
        self.users = LatestRows(USER_KEY)
