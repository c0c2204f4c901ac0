"""An in-memory gold bucket and Glue catalog for unit tests of the gold writer (no emulator).

Only what :class:`todo_gold.gold_writer.GoldWriter` calls is there: listings,
presigned PUTs sent on an HTTP pool, batched deletes; ``GetTables``,
``GetPartitions``, ``GetTable``, ``UpdateTable``, ``BatchUpdatePartition``;
and, in place of awswrangler's catalog writes, :func:`ensure_table` and
:func:`add_partitions` with the rules of :mod:`todo_lake.catalog`. Every
request is logged, so tests can check what a run did and in which order.
Readers see a table as Athena does: the objects under the catalog's locations.
"""

from __future__ import annotations

import io
import threading
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
import pyarrow.parquet as pq

from todo_lake import catalog


class EntityNotFoundException(Exception):
    pass


class Response:
    def __init__(self, status: int, data: bytes = b"") -> None:
        self.status = status
        self.data = data


class MemoryLake:
    """One bucket and one database; ``s3``, ``http`` and ``glue`` are the clients to pass."""

    def __init__(self, bucket: str = "gold", database: str = "lake") -> None:
        self.bucket = bucket
        self.database = database
        self.objects: Dict[str, bytes] = {}
        self.content_types: Dict[str, str] = {}
        self.tables: Dict[str, Dict[str, Any]] = {}
        self.partitions: Dict[str, Dict[Tuple[str, ...], Dict[str, Any]]] = {}
        #: ``(request, detail)`` in the order they were made.
        self.calls: List[Tuple[str, Any]] = []
        #: PUTs of keys for which this returns True answer HTTP 500.
        self.fail_put = lambda key: False
        #: Keys for which this returns True are refused by DeleteObjects: S3
        #: answers 200 and names them under ``Errors`` (even when Quiet).
        self.fail_delete = lambda key: False
        self._lock = threading.Lock()
        self.s3 = _S3(self)
        self.http = _Http(self)
        self.glue = _Glue(self)

    def log(self, request: str, detail: Any = None) -> None:
        with self._lock:
            self.calls.append((request, detail))

    def requests(self, name: str) -> List[Any]:
        return [detail for request, detail in self.calls if request == name]

    # --- what readers see ---------------------------------------------------------
    def locations(self, table: str) -> Dict[Tuple[str, ...], str]:
        """``{partition values: location}`` the catalog names (``()`` unpartitioned)."""
        if self.tables[table]["PartitionKeys"]:
            return {
                v: p["StorageDescriptor"]["Location"] for v, p in self.partitions[table].items()
            }
        return {(): self.tables[table]["StorageDescriptor"]["Location"]}

    def read(self, table: str) -> List[Dict[str, Any]]:
        """The rows Athena returns for ``SELECT *`` (sorted): the catalog's
        columns (null where a file lacks one), then the partition values."""
        keys = [k["Name"] for k in self.tables[table]["PartitionKeys"]]
        columns = list(self.columns(table))
        rows = []
        for values, location in self.locations(table).items():
            prefix = location[len(f"s3://{self.bucket}/") :]
            assert location == f"s3://{self.bucket}/{prefix}", location
            for key in sorted(k for k in self.objects if k.startswith(prefix)):
                for row in pq.read_table(io.BytesIO(self.objects[key])).to_pylist():
                    rows.append({**{c: row.get(c) for c in columns}, **dict(zip(keys, values))})
        return sorted(rows, key=repr)

    def columns(self, table: str) -> Dict[str, str]:
        entry = self.tables[table]
        return {c["Name"]: c["Type"] for c in entry["StorageDescriptor"]["Columns"]}

    def put_parquet(self, key: str, table: pa.Table) -> None:
        sink = io.BytesIO()
        pq.write_table(table, sink)
        self.objects[key] = sink.getvalue()

    # --- catalog writes (awswrangler's, with todo_lake.catalog's rules) -----------
    def ensure_table(
        self,
        database: str,
        table: str,
        path: str,
        existing: Optional[Mapping[str, str]],
        columns: Mapping[str, str],
        partition_cols: Sequence[str],
    ) -> Dict[str, str]:
        assert database == self.database
        assert existing == (
            None
            if table not in self.tables
            else {**self.columns(table), **dict.fromkeys(partition_cols, "string")}
        ), "the writer passes what the catalog holds"
        merged = catalog.evolved_columns(existing, columns, partition_cols)
        self.log("ensure_table", (table, path, merged))
        if merged is None:
            return dict(existing or {})
        # awswrangler's update rewrites the whole entry: its location is ``path`` too.
        descriptor = {
            "Columns": [{"Name": n, "Type": t} for n, t in merged.items()],
            "Location": path,
        }
        self.tables[table] = {
            "Name": table,
            "StorageDescriptor": descriptor,
            "PartitionKeys": [{"Name": c, "Type": "string"} for c in partition_cols],
        }
        self.partitions.setdefault(table, {})
        return {**merged, **dict.fromkeys(partition_cols, "string")}

    def add_partitions(
        self,
        database: str,
        table: str,
        locations: Mapping[str, List[str]],
        known: Set[Tuple[str, ...]],
    ) -> List[str]:
        assert database == self.database
        fresh = {path: list(v) for path, v in locations.items() if tuple(v) not in known}
        self.log("add_partitions", (table, fresh))
        for path, values in fresh.items():
            assert tuple(values) not in self.partitions[table], "AlreadyExistsException"
            self.partitions[table][tuple(values)] = {
                "Values": list(values),
                "StorageDescriptor": {"Location": path},
            }
        known.update(tuple(v) for v in fresh.values())
        return sorted(fresh)


class _Paginator:
    def __init__(self, pages: Any) -> None:
        self._pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[Dict[str, Any]]:
        return self._pages(**kwargs)


class _S3:
    def __init__(self, lake: MemoryLake) -> None:
        self.lake = lake

    def get_paginator(self, name: str) -> _Paginator:
        assert name == "list_objects_v2"
        return _Paginator(self._list)

    def _list(self, Bucket: str, Prefix: str) -> Iterator[Dict[str, Any]]:
        assert Bucket == self.lake.bucket
        self.lake.log("list", Prefix)
        keys = sorted(k for k in self.lake.objects if k.startswith(Prefix))
        for start in range(0, max(len(keys), 1), 1000):
            yield {
                "Contents": [
                    {"Key": k, "Size": len(self.lake.objects[k])}
                    for k in keys[start : start + 1000]
                ]
            }

    def generate_presigned_url(self, operation: str, Params: Dict[str, Any], ExpiresIn: int) -> str:
        assert operation == "put_object"
        assert Params["Bucket"] == self.lake.bucket
        return f"https://{Params['Bucket']}.s3/{Params['Key']}?ct={Params['ContentType']}"

    def delete_objects(self, Bucket: str, Delete: Dict[str, Any]) -> Dict[str, Any]:
        assert Bucket == self.lake.bucket
        # botocore refuses a request with parameters S3 does not know.
        assert set(Delete) <= {"Objects", "Quiet"}, f"Unknown parameter in Delete: {set(Delete)}"
        assert isinstance(Delete.get("Quiet", False), bool)
        keys = [o["Key"] for o in Delete["Objects"]]
        assert len(keys) <= 1000, "S3 deletes at most 1000 keys per request"
        self.lake.log("delete", keys)
        errors = []
        for key in keys:
            if self.lake.fail_delete(key):
                errors.append({"Key": key, "Code": "AccessDenied", "Message": "Access Denied"})
            else:
                self.lake.objects.pop(key, None)
        return {"Errors": errors} if errors else {}


class _Http:
    def __init__(self, lake: MemoryLake) -> None:
        self.lake = lake

    def request(
        self, method: str, url: str, body: bytes = b"", headers: Optional[Dict[str, str]] = None
    ) -> Response:
        parsed = urlparse(url)
        key = parsed.path.lstrip("/")
        assert method == "PUT"
        assert (headers or {}).get("Content-Type") == parse_qs(parsed.query)["ct"][0], "signed"
        if self.lake.fail_put(key):
            self.lake.log("put failed", key)
            return Response(500, b"InternalError")
        self.lake.log("put", key)
        self.lake.objects[key] = body
        self.lake.content_types[key] = (headers or {})["Content-Type"]
        return Response(200)


class _Glue:
    class exceptions:
        EntityNotFoundException = EntityNotFoundException

    def __init__(self, lake: MemoryLake) -> None:
        self.lake = lake

    def get_paginator(self, name: str) -> _Paginator:
        return _Paginator({"get_tables": self._tables, "get_partitions": self._partitions}[name])

    def _tables(self, DatabaseName: str) -> Iterator[Dict[str, Any]]:
        assert DatabaseName == self.lake.database
        self.lake.log("get_tables")
        yield {"TableList": [dict(e) for e in self.lake.tables.values()]}

    def _partitions(self, DatabaseName: str, TableName: str) -> Iterator[Dict[str, Any]]:
        assert DatabaseName == self.lake.database
        self.lake.log("get_partitions", TableName)
        if TableName not in self.lake.tables:
            raise EntityNotFoundException(TableName)
        yield {"Partitions": [dict(p) for p in self.lake.partitions[TableName].values()]}

    def get_table(self, DatabaseName: str, Name: str) -> Dict[str, Any]:
        assert DatabaseName == self.lake.database
        return {"Table": dict(self.lake.tables[Name])}

    def update_table(self, DatabaseName: str, TableInput: Dict[str, Any]) -> None:
        assert DatabaseName == self.lake.database
        self.lake.log("update_table", (TableInput["Name"], TableInput["StorageDescriptor"]))
        self.lake.tables[TableInput["Name"]] = dict(TableInput)

    def batch_update_partition(
        self, DatabaseName: str, TableName: str, Entries: List[Dict[str, Any]]
    ) -> Dict[str, Any]:
        assert DatabaseName == self.lake.database
        self.lake.log("batch_update_partition", (TableName, Entries))
        for entry in Entries:
            values = tuple(entry["PartitionValueList"])
            assert values in self.lake.partitions[TableName]
            self.lake.partitions[TableName][values] = entry["PartitionInput"]
        return {"Errors": []}
