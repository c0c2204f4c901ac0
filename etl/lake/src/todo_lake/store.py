"""A lake layer's tables: Parquet files in S3, registered in the Glue Data Catalog.

Writes are Parquet (snappy) in Hive-style partitions, written with pyarrow
(awswrangler's own ``to_parquet`` goes through pandas and costs several
times more) and registered with :mod:`todo_lake.catalog`: a column that
appears later is added to the table (schema evolution), the catalog keeps
the type it had. Reads list the table's files and read them with pyarrow,
unifying schemas: a file written before a column existed reads that column
as null, as Athena does.

Every client comes from the default boto3 session, so ``AWS_ENDPOINT_URL``
points all of it at the local emulator.
"""

from __future__ import annotations

import io
import json
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

from todo_lake import catalog, s3io
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

    # --- tables ------------------------------------------------------------------
    def table_path(self, table: str) -> str:
        return f"s3://{self.bucket}/{table}/"

    def data_files(self, table: str) -> List[str]:
        """Keys of the Parquet files of a table."""
        return s3io.parquet_keys(self.s3, self.bucket, f"{table}/")

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
        return pa.concat_tables(tables, promote_options="permissive")

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

        def write(number: int, value: str, piece: Piece) -> Tuple[Optional[pa.Schema], int]:
            table = piece() if callable(piece) else piece
            if table.num_rows == 0:
                return None, 0
            table = table.replace_schema_metadata(None)
            sink = io.BytesIO()
            pq.write_table(
                table,
                sink,
                compression="snappy",
                use_dictionary=_dictionary_columns(table.schema),
            )
            key = (
                f"{table_name}/{partition_col}={value}/"
                f"{filename_prefix}{token}-{number:05d}.snappy.parquet"
            )
            self.put_bytes(key, sink.getvalue(), "application/octet-stream")
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
        for schema in schemas:
            self._register(table_name, schema, [partition_col])
        for value, keys in (listed or {}).items():
            if keys:
                paths.setdefault(f"{self.table_path(table_name)}{partition_col}={value}/", [value])
        if paths:
            if not schemas and self._catalog_types(table_name) is None:
                # Files, but no table: the run that wrote them died before registering it.
                some_file = next(keys[0] for keys in (listed or {}).values() if keys)
                schema = pq.read_schema(io.BytesIO(self.get_bytes(some_file)))
                self._register(table_name, schema, [partition_col])
            self._register_partitions(table_name, paths)
        return rows

    def _catalog_types(self, table_name: str) -> Optional[Dict[str, str]]:
        if table_name not in self._types:
            found = catalog.table_types(self.database, table_name)
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
        existing = self._catalog_types(table_name)
        self._types[table_name] = catalog.ensure_table(
            self.database,
            table_name,
            self.table_path(table_name),
            existing,
            catalog.athena_types(schema, partition_cols),
            partition_cols,
        )

    def _register_partitions(self, table_name: str, partitions: Dict[str, List[str]]) -> None:
        """Add the partitions (``{s3 location: values}``) the catalog lacks."""
        known = self._partitions.get(table_name)
        if known is None:
            known = self._partitions[table_name] = catalog.partition_values(
                self.database, table_name
            )
        catalog.add_partitions(self.database, table_name, partitions, known)

    def drop_table(self, table_name: str) -> None:
        """Delete a table's data and its catalog entry (full refresh)."""
        self.delete_keys(self.list_keys(f"{table_name}/"))
        catalog.drop_table(self.database, table_name)
        self._types.pop(table_name, None)
        self._partitions.pop(table_name, None)
