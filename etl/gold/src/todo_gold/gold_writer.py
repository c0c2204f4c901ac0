"""Writing the gold tables: Parquet by pyarrow, the catalog by awswrangler.

A run rewrites whole tables (``overwrite``) or the partitions it computed
(``overwrite_partitions``), idempotently and atomically for readers:

* **A directory per version.** Every version of a table (unpartitioned) or
  of a partition is written into a directory of its own,
  ``<table>/[<col>=<value>/]v-<content hash>/``, named after the SHA-256 of
  its file. The catalog is then pointed at it (one ``UpdateTable``, or one
  ``BatchUpdatePartition`` per 100 partitions) and only then are the files of
  the version it replaced deleted. Readers go through the catalog (Athena;
  ``todo-insights`` with :mod:`todo_gold.gold_reader`): whatever step a run
  dies at, they see the old version or the new one, never both (tested at
  every step). What a crash leaves behind (a new directory the catalog never
  pointed at, or an old one not deleted yet) is deleted by the next run.
* **Unchanged versions are kept.** When the catalog already points at the
  directory a run computes, nothing is written: re-running over unchanged
  silver writes only what changed (the KPI snapshot of the run), and readers
  never see files churn.
* **Few catalog calls.** What the catalog holds is read once per run (one
  ``GetTables`` for the database, one ``GetPartitions`` per partitioned
  table); awswrangler's catalog functions create a table, add the columns it
  lacks (the catalog's type stands) or add partitions only when needed.
* **Overlap.** The listings and catalog reads start before the first table
  is computed (``start``); each table is written in the background while
  the next one is computed.

Files deleted at the end of a run may still be read by an Athena query that
started before the switch; such a query fails and is re-run (it never returns
a mixture).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from todo_gold import gold_catalog
from todo_lake import catalog, s3io
from todo_lake.observability import log
from todo_lake.partitions import partition_directory, split_partitions

FILE_SUFFIX = ".snappy.parquet"
#: The directory of one version of a table or partition: ``v-`` + content hash.
VERSION_PREFIX = "v-"
#: Where an empty unpartitioned table points (a directory that holds nothing).
EMPTY_VERSION = VERSION_PREFIX + "empty"


def parquet_bytes(table: pa.Table) -> bytes:
    """Snappy Parquet; the same rows give the same bytes (one chunk, no metadata)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None).combine_chunks(), sink, compression="snappy")
    return sink.getvalue().to_pybytes()


def content_name(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32] + FILE_SUFFIX


def version_directory(base: str, file_name: str) -> str:
    """``base`` + the version directory of the file named ``file_name``."""
    return f"{base}{VERSION_PREFIX}{file_name[: -len(FILE_SUFFIX)]}/"


@dataclass
class TableWrite:
    """What writing one table did."""

    rows: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    replaced: List[str] = field(default_factory=list)


class GoldWriter:
    """Writes the gold tables of one run; call ``start``, ``write`` each, ``finish``.

    The steps a crash can fall between are methods (``_put``, ``_register``,
    ``_delete``), so tests can fail each of them.
    """

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
            self._catalog = self._io.submit(gold_catalog.table_entries, self.database, self.glue)
        for table, partition_cols in tables.items():
            self._files[table] = self._io.submit(self._list, table)
            if partition_cols:
                self._partitions[table] = self._io.submit(
                    gold_catalog.partition_entries, self.database, table, self.glue
                )

    def _list(self, table: str) -> List[str]:
        return s3io.parquet_keys(self.s3, self.bucket, f"{table}/")

    def _entry(self, table: str) -> Optional[gold_catalog.TableEntry]:
        assert self._catalog is not None
        return self._catalog.result().get(table)

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
        if not pieces and partition_cols:
            return result  # no partition computed: nothing replaced
        current = self._current_locations(table, partition_cols)
        # The version directory of each piece: ``{values: key prefix}``.
        targets: Dict[Tuple[str, ...], str] = {}
        puts: List[Future] = []
        for values, data in pieces:
            body = parquet_bytes(data)
            name = content_name(body)
            directory = version_directory(self._directory(table, partition_cols, values), name)
            targets[values] = directory
            if current.get(values) == directory:
                result.files_unchanged += 1
            elif directory + name not in existing:  # else left by a crashed run: reuse it
                puts.append(self._io.submit(self._put, directory + name, body))
        if not partition_cols and not pieces:
            targets[()] = f"{table}/{EMPTY_VERSION}/"
        for put in puts:
            put.result()
        result.files_written = len(puts)
        self._register(table, rows.schema, partition_cols, targets, current)
        # After the switch the table is what the catalog points at; anything
        # else under the table's prefix is no longer read by anyone.
        live = [*{**current, **targets}.values()]
        result.replaced = [k for k in existing if not any(k.startswith(p) for p in live)]
        return result

    def _current_locations(
        self, table: str, partition_cols: Sequence[str]
    ) -> Dict[Tuple[str, ...], str]:
        """``{partition values: key prefix}`` the catalog points at now (``()`` unpartitioned)."""
        if partition_cols:
            known = self._partitions[table].result()
            return {
                values: gold_catalog.key_prefix(gold_catalog.partition_location(p), self.bucket)
                for values, p in known.items()
            }
        entry = self._entry(table)
        if entry is None:
            return {}
        return {(): gold_catalog.key_prefix(entry.location, self.bucket)}

    @staticmethod
    def _directory(table: str, partition_cols: Sequence[str], values: Sequence[str]) -> str:
        return f"{table}/{partition_directory(partition_cols, values)}"

    def _put(self, key: str, body: bytes) -> None:
        s3io.put_bytes(self.s3, self.http, self.bucket, key, body, "application/octet-stream")

    def _location(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def _register(
        self,
        table: str,
        schema: pa.Schema,
        partition_cols: Sequence[str],
        targets: Dict[Tuple[str, ...], str],
        current: Dict[Tuple[str, ...], str],
    ) -> None:
        """Create the catalog table or add the columns it lacks, then point it
        (or each partition) at the new version: the switch readers see."""
        entry = self._entry(table)
        if entry is not None:
            path = entry.location  # switched below, on its own
        elif partition_cols:
            path = self._location(f"{table}/")  # readers use the partitions' locations
        else:
            path = self._location(targets[()])  # created pointing at its first version
        catalog.ensure_table(
            self.database,
            table,
            path,
            None if entry is None else entry.columns,
            catalog.athena_types(schema, partition_cols),
            partition_cols,
        )
        if not partition_cols:
            gold_catalog.switch_table_location(
                self.database, table, self._location(targets[()]), self.glue
            )
            return
        fresh = {self._location(d): list(v) for v, d in targets.items() if v not in current}
        known = self._partitions[table].result()
        catalog.add_partitions(self.database, table, fresh, set(known))
        moves = {v: self._location(d) for v, d in targets.items() if v in current}
        gold_catalog.switch_partition_locations(self.database, table, moves, known, self.glue)

    def _delete(self, keys: List[str]) -> Set[str]:
        """Delete ``keys``; the ones S3 refused (it answers 200 and names them
        under ``Errors``). A refused file is no version the catalog holds, so
        the next run finds it replaced again and retries."""
        refused: Set[str] = set()
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            answer = self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            refused.update(error["Key"] for error in answer.get("Errors", []))
        if refused:
            log("WARNING", "gold files not deleted", bucket=self.bucket, keys=sorted(refused))
        return refused

    def finish(self) -> Dict[str, TableWrite]:
        """Wait for every write (each ends with its catalog switch), then delete
        the files no version in the catalog holds (one request per 1000)."""
        try:
            results = {table: future.result() for table, future in self._writes.items()}
            refused = self._delete([k for r in results.values() for k in r.replaced])
            for r in results.values():
                r.files_deleted = sum(k not in refused for k in r.replaced)
            return results
        finally:
            self.close()

    def close(self) -> None:
        self._tables.shutdown(wait=True)
        self._io.shutdown(wait=True)
