"""Registering lake tables in the Glue Data Catalog: the one place both jobs do it.

The rules the silver and gold tables share:

* a table is created by its first write, with the columns of what was written;
* a column that appears later is added to the table (schema evolution), and
  the catalog's type of a column it already has stands, but for one change:
  a column widened to text (``string``) by the type-drift rule
  (:mod:`todo_lake.drift`) becomes ``string``;
* partition columns are strings (Hive-style paths) and are never data columns;
* partitions the catalog lacks are added in one call; the caller keeps the
  set it knows (a job is the only writer of its tables while it runs), which
  saves a Glue call per write.

awswrangler is imported on first use, not with this module: it takes seconds
to import (pandas comes with it), and readers of the lake never need it.

Every call passes :func:`session`: awswrangler builds a new boto3 client for
each catalog call otherwise, and building one is slow (botocore makes the
client class and resolves its endpoint each time); a run makes a dozen.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import boto3
import pyarrow as pa

#: Column name -> Athena type, as the catalog holds them.
ColumnTypes = Dict[str, str]
#: Partition values, in the order of the partition columns.
PartitionValues = Tuple[str, ...]


class ClientReusingSession(boto3.Session):  # type: ignore[misc]
    """A boto3 session that hands out one client per service, region and
    endpoint, and reuses it. Clients are made under a lock and boto3 clients
    are thread-safe, so catalog calls may run on several threads at once."""

    def __init__(self) -> None:
        super().__init__()
        self._clients: Dict[Tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
        key = (service_name, kwargs.get("region_name"), kwargs.get("endpoint_url"))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = super().client(service_name, *args, **kwargs)
            return self._clients[key]


_SESSION_LOCK = threading.Lock()
_SESSIONS: Dict[Tuple[Tuple[str, str], ...], ClientReusingSession] = {}


def session() -> ClientReusingSession:
    """The session for catalog calls in the current AWS environment.

    Keyed by the ``AWS_*`` variables, which decide endpoint, region and
    credentials: a process that moves to another endpoint (a test suite
    starting a second emulator) gets new clients.
    """
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    with _SESSION_LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = ClientReusingSession()
        return _SESSIONS[key]


def athena_types(schema: pa.Schema, partition_cols: Sequence[str] = ()) -> ColumnTypes:
    """The data columns of ``schema`` as Athena types (partition columns left out)."""
    from awswrangler._data_types import pyarrow2athena

    return {f.name: pyarrow2athena(f.type) for f in schema if f.name not in partition_cols}


def evolved_columns(
    existing: Optional[Mapping[str, str]], columns: Mapping[str, str], partition_cols: Sequence[str]
) -> Optional[ColumnTypes]:
    """The table's data columns once ``columns`` are added; ``None`` when it has them all.

    ``existing`` is what the catalog holds (partition keys included), ``None``
    for a table that does not exist yet. Existing types stand.
    """
    data = {name: kind for name, kind in columns.items() if name not in partition_cols}
    widened = {
        name
        for name, kind in data.items()
        if kind == "string" and existing is not None and existing.get(name, kind) != kind
    }
    if existing is not None and not widened and all(name in existing for name in data):
        return None
    merged = {k: v for k, v in (existing or {}).items() if k not in partition_cols}
    for name, kind in data.items():
        merged.setdefault(name, kind)
    for name in widened:  # the type-drift rule (todo_lake.drift): widened to text
        merged[name] = "string"
    return merged


def table_types(database: str, table: str) -> Optional[ColumnTypes]:
    """What the catalog holds for ``table`` (partition keys included), or ``None``."""
    import awswrangler as wr

    try:
        return wr.catalog.get_table_types(database=database, table=table, boto3_session=session())
    except Exception:  # awswrangler raises several types for "no such table"
        return None


def ensure_table(
    database: str,
    table: str,
    path: str,
    existing: Optional[Mapping[str, str]],
    columns: Mapping[str, str],
    partition_cols: Sequence[str],
) -> ColumnTypes:
    """Create ``table`` or add the columns it lacks; returns its types afterwards."""
    import awswrangler as wr

    merged = evolved_columns(existing, columns, partition_cols)
    if merged is None:
        return dict(existing or {})
    wr.catalog.create_parquet_table(
        database=database,
        table=table,
        path=path,
        columns_types=merged,
        partitions_types=dict.fromkeys(partition_cols, "string"),
        compression="snappy",
        mode="update" if existing is not None else "overwrite",
        boto3_session=session(),
    )
    return {**merged, **dict.fromkeys(partition_cols, "string")}


def database_tables(database: str, glue: Optional[Any] = None) -> Dict[str, ColumnTypes]:
    """``{table: {column: type}}`` of every table of ``database`` (partition keys
    included), in one paginated ``GetTables``."""
    glue = glue or session().client("glue")
    found: Dict[str, ColumnTypes] = {}
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for entry in page["TableList"]:
            columns = entry.get("StorageDescriptor", {}).get("Columns", [])
            columns = columns + entry.get("PartitionKeys", [])
            found[entry["Name"]] = {c["Name"]: c["Type"] for c in columns}
    return found


def partition_values(database: str, table: str, glue: Optional[Any] = None) -> Set[PartitionValues]:
    """The partitions the catalog holds for ``table`` (none for a missing table)."""
    glue = glue or session().client("glue")
    values: Set[PartitionValues] = set()
    try:
        for page in glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table
        ):
            values.update(tuple(p["Values"]) for p in page["Partitions"])
    except glue.exceptions.EntityNotFoundException:
        pass  # the table is created by this run
    return values


def add_partitions(
    database: str,
    table: str,
    locations: Mapping[str, List[str]],
    known: Set[PartitionValues],
) -> List[str]:
    """Add the partitions (``{s3 location: values}``) not in ``known``; returns their locations.

    ``known`` is updated with what was added.
    """
    import awswrangler as wr

    fresh = {path: list(v) for path, v in locations.items() if tuple(v) not in known}
    if fresh:
        wr.catalog.add_parquet_partitions(
            database=database,
            table=table,
            partitions_values=fresh,
            compression="snappy",
            boto3_session=session(),
        )
        known.update(tuple(v) for v in fresh.values())
    return sorted(fresh)


def drop_table(database: str, table: str) -> None:
    """Remove ``table`` from the catalog, if it is there."""
    import awswrangler as wr

    wr.catalog.delete_table_if_exists(database=database, table=table, boto3_session=session())
