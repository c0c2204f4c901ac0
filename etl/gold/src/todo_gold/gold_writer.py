"""Writing the gold tables: Parquet by pyarrow, the catalog by awswrangler.

A run rewrites whole tables (``overwrite``) or the partitions it computed
(``overwrite_partitions``), idempotently:

* **Content-addressed files.** A file is named after the SHA-256 of its
  bytes. When a partition already holds exactly the file a run computes, the
  PUT is skipped: re-running over unchanged silver writes only what changed
  (the KPI snapshot of the run), and readers never see files churn.
* **New before old.** Old files are deleted only after every new file is
  written and registered, so a crash leaves extra rows (cleaned by the next
  run), never missing ones.
* **Few catalog calls.** What the catalog holds is read once per run (one
  ``GetTables`` for the database, one ``GetPartitions`` per partitioned
  table); awswrangler's catalog functions create a table, add the columns it
  lacks (the catalog's type stands) or add partitions only when needed.
* **Overlap.** The listings and catalog reads start before the first table
  is computed (``start``); each table is written in the background while
  the next one is computed.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from todo_lake import catalog, s3io
from todo_lake.partitions import partition_directory, split_partitions

FILE_SUFFIX = ".snappy.parquet"


def parquet_bytes(table: pa.Table) -> bytes:
    """Snappy Parquet; the same rows give the same bytes (one chunk, no metadata)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None).combine_chunks(), sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def content_name(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32] + FILE_SUFFIX


@dataclass
class TableWrite:
    """What writing one table did."""

    rows: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    replaced: List[str] = field(default_factory=list)


class GoldWriter:
    """Writes the gold tables of one run; call ``start``, ``write`` each, ``finish``."""

    def __init__(
        self,
        bucket: str,
        database: str,
        s3: Optional[Any] = None,
        glue: Optional[Any] = None,
        threads: int = s3io.DEFAULT_CONNECTIONS,
        http: Optional[Any] = None,
    ) -> None:
        self.bucket = bucket.replace("s3://", "").strip("/")
        self.database = database
        self.s3 = s3 or s3io.s3_client(threads + 4)
        self.http = http or s3io.http_pool(threads)
        # The catalog session's client: the catalog writes (todo_lake.catalog) use it too.
        self.glue = glue or catalog.session().client("glue")
        # Requests run on ``_io``; a table's write (which waits for requests)
        # runs on ``_tables``, so waiting never starves the requests.
        self._io = ThreadPoolExecutor(max_workers=threads)
        self._tables = ThreadPoolExecutor(max_workers=4)
        self._files: Dict[str, Future] = {}
        self._catalog: Optional[Future] = None
        self._partitions: Dict[str, Future] = {}
        self._writes: Dict[str, Future] = {}

    # --- what exists ---------------------------------------------------------
    def start(self, tables: Dict[str, Sequence[str]]) -> None:
        """Begin reading the tables' files and catalog entries (``{table: partition cols}``)."""
        if self._catalog is None:
            self._catalog = self._io.submit(catalog.database_tables, self.database, self.glue)
        for table, partition_cols in tables.items():
            self._files[table] = self._io.submit(self._list, table)
            if partition_cols:
                self._partitions[table] = self._io.submit(
                    catalog.partition_values, self.database, table, self.glue
                )

    def _list(self, table: str) -> List[str]:
        return s3io.parquet_keys(self.s3, self.bucket, f"{table}/")

    # --- writing -------------------------------------------------------------
    def write(self, table: str, rows: pa.Table, partition_cols: Sequence[str], mode: str) -> None:
        """Write ``rows`` in the background; ``finish`` waits and reports."""
        if mode not in ("overwrite", "overwrite_partitions"):
            raise ValueError(f"unknown mode {mode!r}")
        if table not in self._files:
            self.start({table: partition_cols})
        self._writes[table] = self._tables.submit(
            self._write, table, rows, list(partition_cols), mode
        )

    def _write(
        self, table: str, rows: pa.Table, partition_cols: List[str], mode: str
    ) -> TableWrite:
        result = TableWrite(rows=rows.num_rows)
        existing = self._files[table].result()
        pieces = split_partitions(rows, partition_cols) if rows.num_rows else []
        if mode == "overwrite":
            old = set(existing)  # every file of the table, but the one kept
        else:  # the files of the partitions computed
            directories = {self._directory(table, partition_cols, v) for v, _ in pieces}
            old = {k for k in existing if k.rsplit("/", 1)[0] + "/" in directories}
        if not pieces:
            result.replaced = sorted(old)
            return result
        kept: Set[str] = set()
        puts: List[Future] = []
        for values, data in pieces:
            body = parquet_bytes(data)
            key = self._directory(table, partition_cols, values) + content_name(body)
            kept.add(key)
            if key in old:
                result.files_unchanged += 1
                continue
            puts.append(self._io.submit(self._put, key, body))
        for put in puts:
            put.result()
        result.files_written = len(puts)
        self._register(table, rows.schema, partition_cols, [v for v, _ in pieces])
        result.replaced = sorted(old - kept)
        return result

    @staticmethod
    def _directory(table: str, partition_cols: Sequence[str], values: Sequence[str]) -> str:
        return f"{table}/{partition_directory(partition_cols, values)}"

    def _put(self, key: str, body: bytes) -> None:
        s3io.put_bytes(self.s3, self.http, self.bucket, key, body, "application/octet-stream")

    def _register(
        self,
        table: str,
        schema: pa.Schema,
        partition_cols: Sequence[str],
        partitions: List[Tuple[str, ...]],
    ) -> None:
        """Create the catalog table or add the columns it lacks; add missing partitions."""
        assert self._catalog is not None
        catalog.ensure_table(
            self.database,
            table,
            f"s3://{self.bucket}/{table}/",
            self._catalog.result().get(table),
            catalog.athena_types(schema, partition_cols),
            partition_cols,
        )
        if partition_cols:
            locations = {
                f"s3://{self.bucket}/{self._directory(table, partition_cols, v)}": list(v)
                for v in partitions
            }
            catalog.add_partitions(
                self.database, table, locations, self._partitions[table].result()
            )

    def finish(self) -> Dict[str, TableWrite]:
        """Wait for every write, then delete the files they replaced (one request per 1000)."""
        try:
            results = {table: future.result() for table, future in self._writes.items()}
            doomed = [k for r in results.values() for k in r.replaced]
            for start in range(0, len(doomed), 1000):
                batch = [{"Key": k} for k in doomed[start : start + 1000]]
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            for r in results.values():
                r.files_deleted = len(r.replaced)
            return results
        finally:
            self.close()

    def close(self) -> None:
        self._tables.shutdown(wait=True)
        self._io.shutdown(wait=True)
