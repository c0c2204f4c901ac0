"""A lake layer's tables: Parquet files in S3, registered in the Glue Data Catalog.

Writes are Parquet (snappy) in Hive-style partitions, written with pyarrow
(awswrangler's own ``to_parquet`` goes through pandas and costs several
times more) and registered with :mod:`todo_lake.catalog`.

Each table has one schema (:mod:`todo_lake.drift`), kept next to it in the
bucket (``_state/schemas/<table>.arrow``): every file is written with
exactly that schema, and the catalog holds its types. A write that brings a
new column, or values of another type for a column (widened to text),
changes it: the new schema is recorded as pending *before* any file with it
is uploaded, the table's older files are rewritten to it (each in place, one
PUT), the catalog is updated, and only then is it settled. A run that finds
a pending schema finishes that first, so a crash anywhere in between ends
the same way. Readers conform every file to the table's schema too.

Every client comes from the default boto3 session, so ``AWS_ENDPOINT_URL``
points all of it at the local emulator.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

import pyarrow as pa
import pyarrow.parquet as pq

from todo_core import lake
from todo_lake import catalog, drift, pii, s3io
from todo_lake.partitions import key_partitions

#: A partition's rows, or a function that makes them (run on a writing thread).
Piece = Union[pa.Table, Callable[[], pa.Table]]
#: Columns whose values are (nearly) all different: dictionary-encoding them
#: costs write time and saves nothing.
MOSTLY_UNIQUE = frozenset(
    {"event_id", "sequence_number", "task_id", "title", "description", "request_id", "email"}
)


def _dictionary_columns(schema: pa.Schema) -> List[str]:
    return [
        f.name
        for f in schema
        if f.name not in MOSTLY_UNIQUE
        and (pa.types.is_string(f.type) or pa.types.is_boolean(f.type))
    ]


def encode_parquet(table: pa.Table) -> bytes:
    """``table`` as the Parquet file every lake write stores (snappy; dictionary
    encoding only for repetitive columns)."""
    sink = io.BytesIO()
    pq.write_table(
        table, sink, compression="snappy", use_dictionary=_dictionary_columns(table.schema)
    )
    return sink.getvalue()


def _s3() -> Any:
    import boto3

    return boto3.client("s3")


class LakeStore:
    """One layer's bucket and the catalog database its tables are registered in."""

    def __init__(self, bucket: str, database: str, s3_client: Optional[Any] = None) -> None:
        self.bucket = bucket.replace("s3://", "").strip("/")
        self.database = database
        self.s3 = s3_client or _s3()
        # What this process knows the catalog holds (a job is the only writer
        # of its tables while it runs): saves two Glue calls per write.
        self._types: Dict[str, Dict[str, str]] = {}
        self._partitions: Dict[str, Set[catalog.PartitionValues]] = {}
        self._schemas: Dict[str, Tuple[Optional[pa.Schema], bool]] = {}
        self._sizes: Dict[str, int] = {}

    # --- objects ---------------------------------------------------------------
    def list_keys(self, prefix: str) -> List[str]:
        return s3io.list_keys(self.s3, self.bucket, prefix)

    def get_bytes(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def put_json(self, key: str, value: Any) -> None:
        self.put_bytes(key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())

    def delete_keys(self, keys: Iterable[str]) -> None:
        batch: List[Dict[str, str]] = []
        for key in keys:
            batch.append({"Key": key})
            if len(batch) == 1000:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                batch = []
        if batch:
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    # --- the table's schema (see the module docstring) ----------------------------
    def _schema_keys(self, table: str) -> Tuple[str, str]:
        base = f"{lake.STATE_PREFIX}schemas/{table}"
        return f"{base}.arrow", f"{base}.pending.arrow"

    def _get_schema(self, key: str) -> Optional[pa.Schema]:
        try:
            return pa.ipc.read_schema(pa.py_buffer(self.get_bytes(key)))
        except self.s3.exceptions.NoSuchKey:
            return None

    def _put_schema(self, key: str, schema: pa.Schema) -> None:
        self.put_bytes(key, schema.serialize().to_pybytes(), "application/vnd.apache.arrow.file")

    def table_schema(self, table: str) -> Tuple[Optional[pa.Schema], bool]:
        """The table's schema, and whether it is pending (its files not all rewritten yet)."""
        if table not in self._schemas:
            settled_key, pending_key = self._schema_keys(table)
            pending = self._get_schema(pending_key)
            if pending is not None:
                self._schemas[table] = (pending, True)
            else:
                self._schemas[table] = (self._get_schema(settled_key), False)
        return self._schemas[table]

    def _writable_schema(self, table: str) -> Tuple[Optional[pa.Schema], bool]:
        """:meth:`table_schema`, for a writer: a table written before schemas were
        kept takes its schema from its files, pending until they all have it."""
        schema, pending = self.table_schema(table)
        if schema is None:
            files = self.data_files(table)
            for key in files:
                schema = drift.widen(schema, self._file_schema(key))
            if schema is not None:
                self._pend(table, schema)
                pending = True
        return schema, pending

    def _file_schema(self, key: str) -> pa.Schema:
        return pq.read_schema(io.BytesIO(self.get_bytes(key)))

    def _pend(self, table: str, schema: pa.Schema) -> None:
        """Record ``schema`` as the table's, pending, before a file with it is uploaded."""
        self._put_schema(self._schema_keys(table)[1], schema)
        self._schemas[table] = (schema, True)

    def _settle(
        self,
        table: str,
        partition_col: str,
        schema: pa.Schema,
        written: Optional[Mapping[str, pa.Schema]] = None,
    ) -> None:
        """Rewrite the table's files that differ from ``schema`` (in place), put
        its types in the catalog, then record it as settled. ``written``: files
        this process wrote, with their schemas (those with ``schema`` are not read)."""
        written = written or {}

        def rewrite(key: str) -> None:
            if key in written and written[key].equals(schema):
                return
            rows = pq.read_table(io.BytesIO(self.get_bytes(key)))
            if not rows.schema.equals(schema, check_metadata=False):
                self._put_parquet(key, drift.conform(rows, schema))

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(rewrite, self.data_files(table)))
        self._register(table, schema, [partition_col])
        settled_key, pending_key = self._schema_keys(table)
        self._put_schema(settled_key, schema)
        self.delete_keys([pending_key])
        self._schemas[table] = (schema, False)

    def _put_parquet(self, key: str, table: pa.Table) -> None:
        self.put_bytes(key, encode_parquet(table), "application/octet-stream")

    # --- tables ------------------------------------------------------------------
    def database_of(self, table: str) -> str:
        """The Glue database ``table`` is registered in (PII tables: their own)."""
        return pii.database_for(self.database, table)

    def table_path(self, table: str) -> str:
        return f"s3://{self.bucket}/{table}/"

    def data_files(self, table: str) -> List[str]:
        """Keys of the Parquet files of a table (their sizes: :meth:`file_size`)."""
        sizes = s3io.parquet_sizes(self.s3, self.bucket, f"{table}/")
        self._sizes.update(sizes)
        return list(sizes)

    def file_size(self, key: str) -> int:
        """The size of a file the last listing of its table found (0 if unknown)."""
        return self._sizes.get(key, 0)

    def partition_files(self, table: str, column: str) -> Dict[str, List[str]]:
        """Keys of a table's Parquet files by the value of partition ``column``.

        One listing of the table instead of one per partition: a run touches
        tens of partitions per chunk, and each listing is a round trip.
        """
        found: Dict[str, List[str]] = {}
        marker = f"{column}="
        for key in self.data_files(table):
            part = key[len(table) + 1 :].split("/", 1)[0]
            if part.startswith(marker) and "/" in key[len(table) + 1 :]:
                found.setdefault(part[len(marker) :], []).append(key)
        return found

    def read_files(
        self, keys: Sequence[str], columns: Optional[Sequence[str]] = None, threads: int = 8
    ) -> Optional[pa.Table]:
        """The rows of these Parquet files, partition columns restored from their paths."""
        if not keys:
            return None

        def one(key: str) -> pa.Table:
            data = self.get_bytes(key)
            parquet = pq.ParquetFile(io.BytesIO(data))
            present = set(parquet.schema_arrow.names)
            wanted = None if columns is None else [c for c in columns if c in present]
            table = parquet.read(columns=wanted)
            for name, value in key_partitions(key):
                if name not in table.column_names and (columns is None or name in columns):
                    table = table.append_column(
                        name, pa.array([value] * table.num_rows, pa.string())
                    )
            return table

        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(keys)))) as pool:
            tables = list(pool.map(one, keys))
        # One type per column across the files: the table's schema, widened
        # by whatever a file holds that it does not (a write in progress).
        table_name = keys[0].split("/", 1)[0]
        schema, _ = self.table_schema(table_name)
        for table in tables:
            schema = drift.widen(schema, table.schema)
        assert schema is not None
        wanted = [f for f in schema if columns is None or f.name in columns]
        if columns is not None:
            wanted += [
                pa.field(c, pa.string())
                for c in columns
                if c not in schema.names and any(c in t.column_names for t in tables)
            ]
        target = pa.schema(wanted)
        return pa.concat_tables(
            [
                drift.conform(t.select([c for c in t.column_names if c in target.names]), target)
                for t in tables
            ]
        )

    def read_table(self, table: str, columns: Optional[Sequence[str]] = None) -> Optional[pa.Table]:
        return self.read_files(self.data_files(table), columns)

    def write_partitions(
        self,
        table_name: str,
        partition_col: str,
        pieces: Iterable[Tuple[str, Piece]],
        filename_prefix: str = "",
        threads: int = 2,
        listed: Optional[Mapping[str, Sequence[str]]] = None,
    ) -> int:
        """Write each ``(partition value, rows)`` as one new Parquet file of the
        table, and register the columns and partitions; returns the rows written.

        ``listed`` is the caller's listing of the table's files by partition
        value (:meth:`partition_files`): every partition in it is registered
        too, so a partition whose file was uploaded by a run that died before
        registering it becomes visible even when nothing new is written to it.

        This is how the job writes: each partition once per run. ``rows`` may
        be a function that makes them: it then runs on the writing threads
        too. Pieces are taken lazily, at most ``threads`` ahead of the
        writers, so memory holds a few partitions at most.
        """
        token = uuid.uuid4().hex
        schema, pending = self._writable_schema(table_name)
        if pending:  # a change a crashed run did not finish
            assert schema is not None
            self._settle(table_name, partition_col, schema)
        lock = threading.Lock()
        written: Dict[str, pa.Schema] = {}

        def write(number: int, value: str, piece: Piece) -> Tuple[Optional[pa.Schema], int]:
            table = piece() if callable(piece) else piece
            if table.num_rows == 0:
                return None, 0
            with lock:
                current, _ = self.table_schema(table_name)
                wider = drift.widen(current, table.schema)
                if current is None or not wider.equals(current):
                    self._pend(table_name, wider)
                current = wider
            table = drift.conform(table, current)
            key = (
                f"{table_name}/{partition_col}={value}/"
                f"{filename_prefix}{token}-{number:05d}.snappy.parquet"
            )
            self._put_parquet(key, table)
            with lock:
                written[key] = table.schema
            return table.schema, table.num_rows

        schemas: Dict[pa.Schema, None] = {}
        paths: Dict[str, List[str]] = {}
        rows = 0
        pending: List[Tuple[str, Any]] = []

        def collect(value: str, future: Any) -> None:
            nonlocal rows
            schema, count = future.result()
            if schema is not None:
                schemas[schema] = None
                paths[f"{self.table_path(table_name)}{partition_col}={value}/"] = [value]
                rows += count

        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for number, (value, piece) in enumerate(pieces):
                pending.append((value, pool.submit(write, number, value, piece)))
                while len(pending) > threads:
                    collect(*pending.pop(0))
            for item in pending:
                collect(*item)
        final, pending = self.table_schema(table_name)
        if pending:
            assert final is not None
            self._settle(table_name, partition_col, final, written)
        elif schemas and final is not None:
            self._register(table_name, final, [partition_col])
        for value, keys in (listed or {}).items():
            if keys:
                paths.setdefault(f"{self.table_path(table_name)}{partition_col}={value}/", [value])
        if paths:
            if self._catalog_types(table_name) is None and final is not None:
                # Files, but no table: the run that wrote them died before registering it.
                self._register(table_name, final, [partition_col])
            self._register_partitions(table_name, paths)
        return rows

    def _catalog_types(self, table_name: str) -> Optional[Dict[str, str]]:
        if table_name not in self._types:
            found = catalog.table_types(self.database_of(table_name), table_name)
            if found is None:
                return None
            self._types[table_name] = found
        return self._types[table_name]

    def _register(
        self,
        table_name: str,
        schema: pa.Schema,
        partition_cols: Sequence[str],
    ) -> None:
        """Create the catalog table, or add the columns it lacks."""
        database = self.database_of(table_name)
        existing = self._catalog_types(table_name)
        self._types[table_name] = catalog.ensure_table(
            database,
            table_name,
            self.table_path(table_name),
            existing,
            catalog.athena_types(schema, partition_cols),
            partition_cols,
        )

    def _register_partitions(self, table_name: str, partitions: Dict[str, List[str]]) -> None:
        """Add the partitions (``{s3 location: values}``) the catalog lacks."""
        database = self.database_of(table_name)
        known = self._partitions.get(table_name)
        if known is None:
            known = self._partitions[table_name] = catalog.partition_values(database, table_name)
        catalog.add_partitions(database, table_name, partitions, known)

    def drop_table(self, table_name: str) -> None:
        """Delete a table's data and its catalog entry (full refresh)."""
        self.delete_keys(self.list_keys(f"{table_name}/"))
        self.delete_keys(self._schema_keys(table_name))
        self._schemas.pop(table_name, None)
        catalog.drop_table(self.database_of(table_name), table_name)
        self._types.pop(table_name, None)
        self._partitions.pop(table_name, None)
