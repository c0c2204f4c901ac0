"""Reading bronze: list the objects under a prefix and fetch their bytes.

Bronze lives in S3 (``s3://bucket``); for benchmarks and offline replays the
same layout can be read from a local directory (``file:///path``). Objects are
JSON lines, gzip-compressed in AWS (Firehose ``CompressionFormat=GZIP``) and
plain in the emulator: compression is detected from the magic bytes, not the
key, so both layouts (``cdc/year=/month=/...`` and ``cdc/YYYY/MM/DD/HH/``) read
the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from todo_core import lake
from todo_lake import s3io

GZIP_MAGIC = b"\x1f\x8b"
#: Bronze prefixes the silver job reads, and the kind of record each holds.
SOURCES: Tuple[Tuple[str, str], ...] = (
    ("cdc", lake.BRONZE_CDC_PREFIX),
    ("logs", lake.BRONZE_LOGS_PREFIX),
)


@dataclass(frozen=True)
class BronzeObject:
    key: str
    size: int
    #: "cdc" (change events) or "logs" (API request logs).
    kind: str


def decompress(data: bytes) -> bytes:
    """Gunzip when the bytes are gzip (several members are fine), else as is."""
    if data[:2] == GZIP_MAGIC:
        return gzip.decompress(data)
    return data


_HOUR_LAYOUTS = (
    # The emulator's Firehose: cdc/YYYY/MM/DD/HH/...
    re.compile(r"^[a-z]+/(\d{4})/(\d{2})/(\d{2})/(\d{2})/"),
    # AWS's (this project's Firehose prefix): cdc/year=YYYY/month=MM/day=DD/hour=HH/...
    re.compile(r"^[a-z]+/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/"),
)


def key_hour(key: str) -> Optional[dt.datetime]:
    """The hour a bronze key is filed under (Firehose files an object under the
    hour it received its first record), or None for a key outside both layouts."""
    # An hour's objects share a directory: parse each directory once.
    return _directory_hour(key[: key.rfind("/") + 1])


@functools.lru_cache(maxsize=8192)
def _directory_hour(directory: str) -> Optional[dt.datetime]:
    for layout in _HOUR_LAYOUTS:
        found = layout.match(directory)
        if found:
            year, month, day, hour = (int(g) for g in found.groups())
            try:
                return dt.datetime(year, month, day, hour, tzinfo=dt.timezone.utc)
            except ValueError:
                return None
    return None


def _listing_starts(prefix: str, since: dt.datetime) -> List[Tuple[str, str]]:
    """``(prefix, start after)`` per key layout: keys sort by hour within a layout,
    so a listing from ``since`` on is a listing that starts after this key."""
    return [
        (prefix, f"{prefix}{since:%Y/%m/%d/%H}"),
        (
            f"{prefix}year=",
            f"{prefix}year={since:%Y}/month={since:%m}/day={since:%d}/hour={since:%H}",
        ),
    ]


def _hour_at_least(key: str, since: dt.datetime) -> bool:
    hour = key_hour(key)
    return hour is not None and hour >= since


def _is_data_key(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(".") and not key.endswith("/")


class BronzeSource:
    """Where bronze objects come from; see :func:`open_source`."""

    location: str

    def list(self, since: Optional[dt.datetime] = None) -> List[BronzeObject]:
        """The data objects, sorted by key; with ``since``, only those filed
        under that hour or later (:func:`key_hour`)."""
        raise NotImplementedError  # pragma: no cover - interface

    def read(self, key: str) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError


class S3Source(BronzeSource):
    def __init__(self, bucket: str, client: Any, http: Optional[Any] = None) -> None:
        self.bucket = bucket
        self.location = f"s3://{bucket}"
        self._s3 = client
        # Reads are presigned GETs on a urllib3 pool: half a boto3 call's CPU.
        self._http = http or s3io.http_pool()

    def list(self, since: Optional[dt.datetime] = None) -> List[BronzeObject]:
        found: List[BronzeObject] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for kind, prefix in SOURCES:
            starts = [(prefix, "")] if since is None else _listing_starts(prefix, since)
            for layout_prefix, start_after in starts:
                for obj in self._listing(paginator, layout_prefix, start_after):
                    if _is_data_key(obj["Key"]) and (
                        since is None or _hour_at_least(obj["Key"], since)
                    ):
                        found.append(BronzeObject(obj["Key"], int(obj["Size"]), kind))
        return sorted(found, key=lambda o: o.key)

    def _listing(self, paginator: Any, prefix: str, start_after: str) -> Iterator[Dict[str, Any]]:
        options = {"StartAfter": start_after} if start_after else {}
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, **options):
            for obj in page.get("Contents", []):
                # The YYYY/ layout's keys come before the year=/ layout's:
                # stop there rather than list all of the other layout.
                if (
                    start_after
                    and not prefix.endswith("=")
                    and not obj["Key"][len(prefix) :][:1].isdigit()
                ):
                    return
                yield obj

    def read(self, key: str) -> bytes:
        return s3io.get_bytes(self._s3, self._http, self.bucket, key)


class LocalSource(BronzeSource):
    """A directory laid out like the bronze bucket (keys are relative paths)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.location = f"file://{self.root}"

    def list(self, since: Optional[dt.datetime] = None) -> List[BronzeObject]:
        found: List[BronzeObject] = []
        for kind, prefix in SOURCES:
            base = os.path.join(self.root, prefix)
            for directory, _, files in os.walk(base):
                for name in files:
                    path = os.path.join(directory, name)
                    key = os.path.relpath(path, self.root).replace(os.sep, "/")
                    if _is_data_key(key) and (since is None or _hour_at_least(key, since)):
                        found.append(BronzeObject(key, os.path.getsize(path), kind))
        return sorted(found, key=lambda o: o.key)

    def read(self, key: str) -> bytes:
        with open(os.path.join(self.root, key), "rb") as handle:
            return handle.read()


def open_source(location: str, s3_client: Optional[Any] = None) -> BronzeSource:
    """``s3://bucket``, a bare bucket name (Glue passes those), or ``file:///dir``."""
    if location.startswith("file://"):
        return LocalSource(location[len("file://") :])
    bucket = location[len("s3://") :] if location.startswith("s3://") else location
    bucket = bucket.strip("/")
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    return S3Source(bucket, s3_client)


#: JSON lines compress about this well with gzip; used to budget chunks.
GZIP_RATIO_ESTIMATE = 8


def expanded_size(obj: BronzeObject) -> int:
    """The object's size once decompressed (estimated for gzip)."""
    return obj.size * GZIP_RATIO_ESTIMATE if obj.key.endswith(".gz") else obj.size


def chunked(objects: Iterable[BronzeObject], max_bytes: int) -> Iterator[List[BronzeObject]]:
    """Consecutive groups of objects of at most ``max_bytes`` of JSON (one object may exceed it)."""
    chunk: List[BronzeObject] = []
    size = 0
    for obj in objects:
        grown = expanded_size(obj)
        if chunk and size + grown > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append(obj)
        size += grown
    if chunk:
        yield chunk
