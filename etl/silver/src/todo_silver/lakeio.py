"""Lake tables in S3 + the Glue Data Catalog, through awswrangler.

Writes go through ``awswrangler.s3.to_parquet`` (Parquet, snappy, Hive-style
partitions, table and partitions registered in the catalog, new columns
added to the table with ``schema_evolution``). Reads list the table's files
and read them with pyarrow, unifying schemas: a file written before a column
existed reads that column as null, as Athena does.

Every client comes from the default boto3 session, so ``AWS_ENDPOINT_URL``
points all of it at the local emulator.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterable, List, Optional, Sequence

import awswrangler as wr
from awswrangler._data_types import pyarrow2athena
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_SUFFIX = ".parquet"


def _s3() -> Any:
    import boto3

    return boto3.client("s3")


class LakeStore:
    """One layer's bucket and the catalog database its tables are registered in."""

    def __init__(self, bucket: str, database: str, s3_client: Optional[Any] = None) -> None:
        self.bucket = bucket.replace("s3://", "").strip("/")
        self.database = database
        self.s3 = s3_client or _s3()

    # --- objects ---------------------------------------------------------------
    def list_keys(self, prefix: str) -> List[str]:
        keys: List[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

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

    def data_files(self, table: str, partition: Optional[str] = None) -> List[str]:
        """Keys of the Parquet files of a table, or of one ``col=value`` partition."""
        prefix = f"{table}/" + (f"{partition}/" if partition else "")
        return sorted(k for k in self.list_keys(prefix) if k.endswith(PARQUET_SUFFIX))

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
            for part in key.split("/")[1:-1]:
                name, sep, value = part.partition("=")
                if sep and name not in table.column_names and (columns is None or name in columns):
                    table = table.append_column(name, pa.array([value] * table.num_rows, pa.string()))
            return table

        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(keys)))) as pool:
            tables = list(pool.map(one, keys))
        return pa.concat_tables(tables, promote_options="permissive")

    def read_table(self, table: str, columns: Optional[Sequence[str]] = None) -> Optional[pa.Table]:
        return self.read_files(self.data_files(table), columns)

    def append(
        self,
        table_name: str,
        table: pa.Table,
        partition_cols: Sequence[str] = (),
        filename_prefix: Optional[str] = None,
        mode: str = "append",
    ) -> List[str]:
        """Write rows as new files and register them; returns the written S3 paths."""
        if table.num_rows == 0:
            return []
        # Arrow-backed pandas columns avoid copies, except nested ones: their
        # dtype names would land in the pandas metadata of the files, where
        # pandas readers cannot parse them back. The catalog types are given
        # explicitly, so nothing is left to inference.
        frame = table.to_pandas(
            types_mapper=lambda t: None if pa.types.is_nested(t) else pd.ArrowDtype(t)
        )
        types = {f.name: pyarrow2athena(f.type) for f in table.schema}
        result = wr.s3.to_parquet(
            df=frame,
            path=self.table_path(table_name),
            dataset=True,
            mode=mode,
            database=self.database,
            table=table_name,
            partition_cols=list(partition_cols) or None,
            schema_evolution=True,
            compression="snappy",
            filename_prefix=filename_prefix,
            sanitize_columns=False,
            dtype=types,
        )
        return list(result["paths"])

    def drop_table(self, table_name: str) -> None:
        """Delete a table's data and its catalog entry (full refresh)."""
        self.delete_keys(self.list_keys(f"{table_name}/"))
        wr.catalog.delete_table_if_exists(database=self.database, table=table_name)


def key_of(path: str) -> str:
    """``s3://bucket/a/b`` -> ``a/b``."""
    return path.split("/", 3)[3]
