"""Fetching the silver tables gold needs, fast: one pool for every file.

* **One listing per table**, one after the other while the workers already
  fetch the files of the tables listed before.
* **Only the bytes gold reads.** A worker saves each object in the run's
  local work directory under its key, so the Hive-style partition
  directories come along, and notes the columns and row count its footer
  declares (so nothing has to open the files again to learn them). DuckDB
  then reads the local files directly (see :mod:`todo_gold.engines`),
  decoding only the columns the SQL uses. A small object is fetched whole,
  in one GET. Of a large one (``task_events``: over half of each file is
  columns gold never reads, ``event_id`` alone about half), given the
  columns wanted, a worker GETs the tail (the footer, and the last column
  chunks), then only the byte ranges of the wanted columns' chunks, nearby
  ones merged into one request, and saves them at their offsets in a sparse
  file of the object's size: the footer stays valid and DuckDB reads the
  chunks where the footer says they are; the others are holes nothing
  reads. About a third of the bytes to transfer, write and delete, for two
  or three requests a file instead of one.
* **Light requests**: presigned GETs on a urllib3 pool (:mod:`todo_lake.s3io`).
* **Tables as they arrive.** ``download()`` yields each table as soon as its
  files are in, in the order asked for, while the next ones still download,
  so the caller can start on the small tables early.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Collection, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from todo_lake import s3io
from todo_lake.partitions import key_partitions

#: Enough requests in flight to hide each one's latency.
DEFAULT_THREADS = s3io.DEFAULT_CONNECTIONS
#: Objects smaller than this are fetched whole, in one request: ranged reads
#: would cost more requests than the bytes they save (silver's ``tasks`` and
#: ``users`` files; a ``task_events`` file of a million events is ~2 MiB).
WHOLE_OBJECT_BYTES = 1 << 20
#: The first read of a larger object: its last bytes, with the footer (a few
#: KiB) and usually the last column chunks too.
TAIL_BYTES = 64 << 10
#: Wanted column chunks less than this apart are read in one request: the
#: bytes between cost less than another request.
MERGE_GAP_BYTES = 256 << 10
_MAGIC = b"PAR1"


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

    def list_files(self, table: str) -> Dict[str, int]:
        """The table's Parquet objects, sorted, with their sizes."""
        return s3io.parquet_sizes(self.s3, self.bucket, f"{table}/")

    def get_bytes(self, key: str) -> bytes:
        return s3io.get_bytes(self.s3, self.http, self.bucket, key)

    def _not_parquet(self, key: str, reason: object) -> s3io.ObjectError:
        return s3io.ObjectError(f"s3://{self.bucket}/{key} is not a Parquet file: {reason}")

    def _save(
        self, key: str, size: int, directory: str, columns: Optional[Collection[str]] = None
    ) -> LocalFile:
        """Save ``key`` under ``directory``: whole, or (``columns`` given, a
        large object) only those columns' chunks, the footer and the tail."""
        path = local_path(directory, key)
        if columns is None or size < WHOLE_OBJECT_BYTES:
            data = self.get_bytes(key)
            footer, pieces, length = self._footer(key, data), [(0, data)], len(data)
        else:
            footer, pieces = self._wanted_ranges(key, size, columns)
            length = size
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            # A sparse file of the object's size: what is not fetched is a hole.
            out.truncate(length)
            for offset, data in pieces:
                out.seek(offset)
                out.write(data)
        partition_cols = tuple(name for name, _ in key_partitions(key))
        return LocalFile(path, tuple(footer.schema.names) + partition_cols, footer.num_rows)

    def _footer(self, key: str, data: bytes) -> pq.FileMetaData:
        """The footer of a Parquet file ending in ``data`` (the whole file, or
        its tail: the footer's offsets are the file's, whatever precedes it)."""
        try:
            if not data.startswith(_MAGIC):
                data = _MAGIC + data
            return pq.read_metadata(pa.BufferReader(data))
        except (pa.ArrowInvalid, OSError) as exc:
            raise self._not_parquet(key, exc) from exc

    def _wanted_ranges(
        self, key: str, size: int, columns: Collection[str]
    ) -> Tuple[pq.FileMetaData, List[Tuple[int, bytes]]]:
        """The footer and ``(offset, bytes)`` pieces holding ``columns``' chunks."""
        # One signature for every range (the Range header is not signed).
        url = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=s3io.PRESIGN_SECONDS,
        )
        tail_start = max(0, size - TAIL_BYTES)
        tail = self._get_range(url, key, tail_start, size)
        if len(tail) < 8 or not tail.endswith(_MAGIC):
            raise self._not_parquet(key, "no Parquet magic at its end")
        footer_start = size - 8 - int.from_bytes(tail[-8:-4], "little")
        if footer_start < 4:
            raise self._not_parquet(key, "its footer is longer than the object")
        if footer_start < tail_start:  # a footer longer than the tail read
            tail_start, tail = footer_start, self._get_range(url, key, footer_start, size)
        footer = self._footer(key, tail)
        pieces = [(0, _MAGIC), (tail_start, tail)]
        for start, end in chunk_ranges(footer, columns, tail_start):
            pieces.append((start, self._get_range(url, key, start, end)))
        return footer, pieces

    def _get_range(self, url: str, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object at the presigned ``url``."""
        response = self.http.request("GET", url, headers={"Range": f"bytes={start}-{end - 1}"})
        data = bytes(response.data)
        if response.status == 200 and len(data) > end - start:  # a server ignoring Range
            data = data[start:end]
        elif response.status not in (200, 206):
            raise s3io.ObjectError(
                f"GET s3://{self.bucket}/{key} bytes {start}-{end - 1}: HTTP"
                f" {response.status}: {data[:300]!r}"
            )
        if len(data) != end - start:
            raise s3io.ObjectError(
                f"GET s3://{self.bucket}/{key} bytes {start}-{end - 1}: got {len(data)} bytes"
            )
        return data

    def download(
        self, tables: Iterable[str], directory: str
    ) -> Iterator[Tuple[str, List[LocalFile]]]:
        """``(table, its files)`` per table, in the order given, each as soon
        as its files are saved under ``directory`` (no files: no table yet).

        ``tables`` may map each table to the columns wanted: of a large
        object, only those are fetched (the others are holes in its file);
        otherwise every file is fetched whole.
        """
        wanted: Mapping[str, Collection[str]] = tables if isinstance(tables, Mapping) else {}
        pool = ThreadPoolExecutor(max_workers=self.threads)
        try:
            # Listed one after the other here while the workers fetch: the
            # first table's GETs start after one listing, not after all of them.
            parts: Dict[str, List[Future]] = {}
            for table in tables:
                parts[table] = [
                    pool.submit(self._save, k, size, directory, wanted.get(table))
                    for k, size in self.list_files(table).items()
                ]
            for table, futures in parts.items():
                files = [f.result() for f in futures]
                self.files_read += len(files)
                yield table, files
        finally:
            # On failure, do not wait for the rest of the downloads.
            pool.shutdown(wait=True, cancel_futures=True)


def chunk_ranges(
    footer: pq.FileMetaData, columns: Collection[str], limit: int
) -> List[Tuple[int, int]]:
    """The ``[start, end)`` byte ranges holding ``columns``' chunks (every row
    group; a nested column by its top-level name), before ``limit`` (what is
    after it is already in hand), those less than ``MERGE_GAP_BYTES`` apart
    merged."""
    wanted = set(columns)
    spans = []
    for g in range(footer.num_row_groups):
        group = footer.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if chunk.path_in_schema.split(".")[0] not in wanted:
                continue
            start = chunk.data_page_offset
            if chunk.has_dictionary_page and chunk.dictionary_page_offset:
                start = min(start, chunk.dictionary_page_offset)
            end = min(start + chunk.total_compressed_size, limit)
            if start < end:
                spans.append((start, end))
    merged: List[Tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] < MERGE_GAP_BYTES:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
