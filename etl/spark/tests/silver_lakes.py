"""A lake both silver engines run on: a ``file://`` directory of buckets (as
the Spark job reads and writes it off Glue) with the catalog in the emulator.

The Python-shell job (DuckDB and Arrow) is given the same directory through
its own seams (its bronze source and its lake store), so a run of either
engine can follow a run of the other on one lake.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

from todo_core import lake
from todo_lake.pii import database_for
from todo_lake.store import LakeStore
from todo_lake_spark.lake_root import LakeRoot, LocalBucketClient
from todo_lake_spark.silver_job import SparkSilverJob
from todo_lake_testing import synthetic
from todo_silver.bronze import LocalSource
from todo_silver.job import RunCounts, SilverJob
from todo_silver.settings import SilverSettings

START_MS = int(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
KEYS = {
    lake.SILVER_TASK_EVENTS: ("user_id", "task_id", "sequence_number"),
    lake.SILVER_TASKS: ("user_id", "task_id"),
    lake.SILVER_USERS: ("user_id",),
    lake.SILVER_API_REQUESTS: ("request_id", "operation", "status_code"),
}


def type_text(kind: pa.DataType) -> str:
    """A type as text, whatever its list items are called (pyarrow's ``item``,
    DuckDB's ``l``, Spark's ``element``: the same type to pyarrow)."""
    if pa.types.is_list(kind):
        return f"list<{type_text(kind.value_type)}>"
    if pa.types.is_struct(kind):
        inner = ", ".join(f"{f.name}: {type_text(f.type)}" for f in kind)
        return f"struct<{inner}>"
    return str(kind)


@dataclass
class SilverLake:
    stack: Any
    directory: str

    @property
    def names(self) -> Any:
        return self.stack.names

    @property
    def root(self) -> LakeRoot:
        return LakeRoot(self.directory)

    @property
    def bronze_dir(self) -> str:
        return os.path.join(self.directory, self.names.bronze_bucket)

    def store(self) -> LakeStore:
        return LakeStore(
            self.names.silver_bucket,
            self.names.glue_database,
            s3_client=LocalBucketClient(self.directory),
        )

    def settings(self, **overrides: Any) -> SilverSettings:
        values: Dict[str, Any] = {
            "bronze_bucket": self.names.bronze_bucket,
            "silver_bucket": self.names.silver_bucket,
            "database_name": self.names.glue_database,
            "stage": "local",
            "publish_metrics": False,
        }
        values.update(overrides)
        return SilverSettings(**values)

    # --- bronze ----------------------------------------------------------------------
    def put_raw(self, key: str, body: bytes) -> None:
        path = os.path.join(self.bronze_dir, *key.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(body)

    def put_events(
        self,
        groups: Sequence[Sequence[Dict[str, Any]]],
        start_number: int = 0,
        layout: str = "emulator",
    ) -> List[str]:
        keys = []
        for i, group in enumerate(groups):
            if not group:
                continue
            at = min(e["approximate_creation_time"] for e in group)
            key = synthetic.object_key(at, start_number + i, layout)
            self.put_raw(key, synthetic.encode(group, compress=(layout == "aws")))
            keys.append(key)
        return keys

    # --- the two engines ------------------------------------------------------------
    def run_duckdb(self, **overrides: Any) -> RunCounts:
        job = SilverJob(
            self.settings(**overrides), source=LocalSource(self.bronze_dir), store=self.store()
        )
        return job.run()

    def run_spark(self, spark: Any, **overrides: Any) -> RunCounts:
        return SparkSilverJob(self.settings(**overrides), spark, self.root).run()

    def run(self, engine: str, spark: Any, **overrides: Any) -> RunCounts:
        return (
            self.run_duckdb(**overrides)
            if engine == "duckdb"
            else self.run_spark(spark, **overrides)
        )

    # --- what silver holds -----------------------------------------------------------------
    def table(self, name: str) -> Optional[pa.Table]:
        return self.store().read_table(name)

    def rows(self, name: str) -> List[Dict[str, Any]]:
        table = self.table(name)
        if table is None:
            return []
        key = KEYS[name]
        return sorted(
            table.to_pylist(),
            key=lambda r: (*[str(r[k]) for k in key], str(sorted(r.items()))),
        )

    def schema(self, name: str) -> Dict[str, str]:
        """The table's kept schema as ``{column: type}`` (unknown attributes'
        columns may come in another order on the two engines)."""
        schema, pending = self.store().table_schema(name)
        assert not pending
        return {} if schema is None else {f.name: type_text(f.type) for f in schema}

    def known_column_order(self, name: str) -> List[str]:
        from todo_lake.silver_schema import table_columns

        schema, _ = self.store().table_schema(name)
        known = table_columns(name)
        return [] if schema is None else [f.name for f in schema if f.name in known]

    def catalog(self, name: str) -> Tuple[Dict[str, str], List[Tuple[str, ...]], str]:
        """The catalog's column types, partitions and location of a table."""
        glue = self.stack.client("glue")
        database = database_for(self.names.glue_database, name)
        try:
            entry = glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return {}, [], ""
        descriptor = entry["StorageDescriptor"]
        columns = {
            c["Name"]: c["Type"] for c in descriptor["Columns"] + entry.get("PartitionKeys", [])
        }
        partitions = sorted(
            tuple(p["Values"])
            for page in glue.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=name
            )
            for p in page["Partitions"]
        )
        return columns, partitions, descriptor["Location"]

    def quarantine(self) -> Dict[str, bytes]:
        client = LocalBucketClient(self.directory)
        bucket = self.names.silver_bucket
        return {
            key: client.get_object(Bucket=bucket, Key=key)["Body"].read()
            for key, _ in client.sizes(bucket)
            if key.startswith(lake.QUARANTINE_PREFIX)
        }

    def processed(self) -> List[str]:
        from todo_silver.manifest import Manifest

        return sorted(Manifest(self.store()).processed())

    def state(self) -> Dict[str, Any]:
        """Everything a reader of silver sees: rows, schemas, catalog entries,
        quarantined records and the manifest's record."""
        out: Dict[str, Any] = {}
        for name in KEYS:
            out[name] = {
                "rows": self.rows(name),
                "schema": self.schema(name),
                "known_order": self.known_column_order(name),
                "catalog": self.catalog(name),
            }
        out["quarantine"] = self.quarantine()
        out["processed"] = self.processed()
        return out


def fresh_lake(stack: Any, directory: str) -> SilverLake:
    """An empty lake: the directory, and the emulator's buckets and catalog tables."""
    stack.empty_data_lake()
    os.makedirs(directory, exist_ok=True)
    return SilverLake(stack, directory)


def assert_same_silver(got: Dict[str, Any], expected: Dict[str, Any]) -> None:
    """:meth:`SilverLake.state` equal, failing on the first table and aspect that differ."""
    assert got.keys() == expected.keys()
    for name, want in expected.items():
        if not (isinstance(want, dict) and "rows" in want):
            assert got[name] == want, (name, got[name], want)
            continue
        for aspect in ("schema", "known_order", "catalog"):
            assert got[name][aspect] == want[aspect], (
                name,
                aspect,
                got[name][aspect],
                want[aspect],
            )
        rows, wanted = got[name]["rows"], want["rows"]
        assert len(rows) == len(wanted), (name, "rows", len(rows), len(wanted))
        for row, expected_row in zip(rows, wanted):
            differ = {
                k: (row.get(k), expected_row.get(k))
                for k in sorted(set(row) | set(expected_row))
                if row.get(k) != expected_row.get(k)
            }
            assert not differ, (name, {k: row.get(k) for k in KEYS[name]}, differ)
