"""Reading the silver tables gold needs, fast: one pool for every file.

* **One listing per table**, the listings side by side.
* **One request per file.** A worker GETs a whole object (object stores
  charge per request far more than per byte) and decodes only the columns
  gold's SQL reads, so the decoding of one file overlaps the transfer of the
  others. Partition columns come from the Hive-style paths, as Athena reads
  them.
* **Light requests.** The GETs are SigV4-presigned by boto3 (the job's own
  credentials, 15 minutes) and sent on a urllib3 pool with retries: a boto3
  ``get_object`` call costs about 4-5 ms of CPU on this machine (event hooks,
  endpoint rules, response parsing), twice the presigned request, and with
  a hundred files that overhead was the largest single cost of a gold run.
* **Tables as they arrive.** ``tables()`` yields each table as soon as its
  files are in, in the order asked for, while the next ones still download,
  so the caller can start on the small tables early.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from todo_silver.lakeio import parquet_keys

#: Enough requests in flight to hide each one's latency; decoding releases the GIL.
DEFAULT_THREADS = 8
#: How long a presigned GET stays valid (it is used at once).
PRESIGN_SECONDS = 900

Columns = Mapping[str, pa.DataType]


class ReadError(RuntimeError):
    """An object could not be read (after retries)."""


def s3_client(pool: int = DEFAULT_THREADS + 4) -> Any:
    """An S3 client with a connection for every worker (boto3's default is 10)."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(max_pool_connections=pool))


def http_pool(size: int = DEFAULT_THREADS) -> Any:
    """A urllib3 pool that retries what S3 asks to retry (5xx, SlowDown) and lost connections."""
    import urllib3
    from botocore.httpsession import get_cert_path
    from urllib3.util.retry import Retry

    retry = Retry(
        total=5,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        raise_on_status=False,
    )
    return urllib3.PoolManager(
        maxsize=size,
        retries=retry,
        timeout=urllib3.Timeout(connect=10.0, read=120.0),
        ca_certs=get_cert_path(True),  # the CA bundle boto3 itself trusts
    )


def conform(table: Optional[pa.Table], columns: Columns) -> pa.Table:
    """Exactly ``columns``, in order, with their types; absent ones all null."""
    n = 0 if table is None else table.num_rows
    arrays = []
    for name, kind in columns.items():
        if table is not None and name in table.column_names:
            arrays.append(table.column(name).cast(kind))
        else:
            arrays.append(pa.nulls(n, kind))
    return pa.table(arrays, names=list(columns))


def decode(key: str, data: bytes, columns: Columns) -> pa.Table:
    """The wanted columns of one Parquet object, partition values from its key."""
    parquet = pq.ParquetFile(pa.BufferReader(data))
    present = set(parquet.schema_arrow.names)
    # One decoding thread per file: the pool already runs files side by side.
    table = parquet.read(columns=[c for c in columns if c in present], use_threads=False)
    for part in key.split("/")[1:-1]:
        name, sep, value = part.partition("=")
        if sep and name in columns and name not in table.column_names:
            table = table.append_column(
                name, pa.repeat(pa.scalar(value, pa.string()), table.num_rows)
            )
    return table


class SilverReader:
    """The silver tables of one bucket, as Arrow tables of the wanted columns."""

    def __init__(
        self,
        bucket: str,
        s3: Optional[Any] = None,
        threads: int = DEFAULT_THREADS,
        http: Optional[Any] = None,
    ) -> None:
        self.bucket = bucket.replace("s3://", "").strip("/")
        self.s3 = s3 or s3_client(threads + 4)
        self.http = http or http_pool(threads)
        self.threads = threads
        self.files_read = 0

    def list_files(self, table: str) -> List[str]:
        return parquet_keys(self.s3, self.bucket, f"{table}/")

    def get_bytes(self, key: str) -> bytes:
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
        )
        response = self.http.request("GET", url)
        if response.status != 200:
            raise ReadError(
                f"GET s3://{self.bucket}/{key}: HTTP {response.status}: {response.data[:300]!r}"
            )
        return bytes(response.data)

    def _fetch(self, key: str, columns: Columns) -> pa.Table:
        return decode(key, self.get_bytes(key), columns)

    def tables(self, wanted: Mapping[str, Columns]) -> Iterator[Tuple[str, pa.Table]]:
        """``(table, rows)`` per wanted table, conformed to its columns (empty if absent)."""
        pool = ThreadPoolExecutor(max_workers=self.threads)
        try:
            listings = {t: pool.submit(self.list_files, t) for t in wanted}
            parts: Dict[str, List[Future]] = {}
            for table, listing in listings.items():
                parts[table] = [
                    pool.submit(self._fetch, k, wanted[table]) for k in listing.result()
                ]
            for table, futures in parts.items():
                pieces = [f.result() for f in futures]
                self.files_read += len(pieces)
                joined = pa.concat_tables(pieces, promote_options="permissive") if pieces else None
                yield table, conform(joined, wanted[table])
        finally:
            # On failure, do not wait for the rest of the downloads.
            pool.shutdown(wait=True, cancel_futures=True)

    def read(self, wanted: Mapping[str, Columns]) -> Dict[str, pa.Table]:
        return dict(self.tables(wanted))
