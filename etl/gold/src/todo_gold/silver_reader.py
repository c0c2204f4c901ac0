"""Fetching the silver tables gold needs, fast: one pool for every file.

* **One listing per table**, one after the other while the workers already
  fetch the files of the tables listed before.
* **One request per file.** A worker GETs a whole object (object stores
  charge per request far more than per byte), saves it in the run's local
  work directory under its key, so the Hive-style partition directories
  come along, and notes the columns and row count its footer declares (so
  nothing has to open the files again to learn them). DuckDB then reads the
  local files directly (see :mod:`todo_gold.engines`), decoding only the
  columns the SQL uses.
* **Light requests**: presigned GETs on a urllib3 pool (:mod:`todo_lake.s3io`).
* **Tables as they arrive.** ``download()`` yields each table as soon as its
  files are in, in the order asked for, while the next ones still download,
  so the caller can start on the small tables early.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from todo_lake import s3io
from todo_lake.partitions import key_partitions

#: Enough requests in flight to hide each one's latency.
DEFAULT_THREADS = s3io.DEFAULT_CONNECTIONS


def local_path(directory: str, key: str) -> str:
    """Where ``key`` is saved under ``directory``; a key cannot point outside it."""
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts):
        raise s3io.ObjectError(f"refusing to save object key {key!r} as a local file")
    return os.path.join(directory, *parts)


@dataclass(frozen=True)
class LocalFile:
    """A silver object saved locally."""

    path: str
    #: Its columns: those in the file, then the partition columns of its key.
    columns: Tuple[str, ...]
    rows: int


class SilverReader:
    """The silver tables of one bucket, saved as local Parquet files."""

    def __init__(
        self,
        bucket: str,
        s3: Optional[Any] = None,
        threads: int = DEFAULT_THREADS,
        http: Optional[Any] = None,
    ) -> None:
        self.bucket = bucket.replace("s3://", "").strip("/")
        self.s3 = s3 or s3io.s3_client(threads + 4)
        self.http = http or s3io.http_pool(threads)
        self.threads = threads
        self.files_read = 0

    def list_files(self, table: str) -> List[str]:
        return s3io.parquet_keys(self.s3, self.bucket, f"{table}/")

    def get_bytes(self, key: str) -> bytes:
        return s3io.get_bytes(self.s3, self.http, self.bucket, key)

    def _save(self, key: str, directory: str) -> LocalFile:
        path = local_path(directory, key)
        data = self.get_bytes(key)
        try:
            footer = pq.read_metadata(pa.BufferReader(data))
        except (pa.ArrowInvalid, OSError) as exc:
            raise s3io.ObjectError(
                f"s3://{self.bucket}/{key} is not a Parquet file: {exc}"
            ) from exc
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)
        partition_cols = tuple(name for name, _ in key_partitions(key))
        return LocalFile(path, tuple(footer.schema.names) + partition_cols, footer.num_rows)

    def download(
        self, tables: Iterable[str], directory: str
    ) -> Iterator[Tuple[str, List[LocalFile]]]:
        """``(table, its files)`` per table, in the order given, each as soon
        as its files are saved under ``directory`` (no files: no table yet)."""
        pool = ThreadPoolExecutor(max_workers=self.threads)
        try:
            # Listed one after the other here while the workers fetch: the
            # first table's GETs start after one listing, not after all of them.
            parts: Dict[str, List[Future]] = {}
            for table in tables:
                parts[table] = [
                    pool.submit(self._save, k, directory) for k in self.list_files(table)
                ]
            for table, futures in parts.items():
                files = [f.result() for f in futures]
                self.files_read += len(files)
                yield table, files
        finally:
            # On failure, do not wait for the rest of the downloads.
            pool.shutdown(wait=True, cancel_futures=True)
