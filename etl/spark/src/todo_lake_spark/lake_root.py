"""Where the Spark jobs find the lake: S3 on Glue, a local directory off it.

On Glue, Spark reads and writes ``s3://<bucket>/<key>`` and the jobs'
bookkeeping (manifest, lease, table schemas, quarantine) goes through boto3,
as the Python-shell jobs do. Off Glue there is no ``s3://`` for Spark (the
``hadoop-aws`` jars are not in the pyspark wheel), so ``--LAKE_ROOT
file:///dir`` makes the lake a directory with one folder per bucket and the
same keys (``<dir>/<bucket>/<key>``): Spark reads and writes it as
``file://`` paths, and :class:`LocalBucketClient` gives the lake's stores
(:class:`todo_lake.store.LakeStore`, :class:`todo_lake.lease.Lease`) the
part of boto3's S3 client they use, on the same folders. The Glue catalog
calls still go to boto3 (the emulator locally).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional

from botocore.exceptions import ClientError

from todo_silver.bronze import BronzeSource, LocalSource, open_source

__all__ = ["LakeRoot", "LocalBucketClient"]


class NoSuchKey(ClientError):
    """What boto3 raises for a missing key (``client.exceptions.NoSuchKey``)."""


def _error(code: str, operation: str, cls: type = ClientError) -> ClientError:
    status = 404 if code in ("NoSuchKey", "404") else 412
    return cls(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


class _Paginator:
    def __init__(self, client: LocalBucketClient) -> None:
        self._client = client

    def paginate(
        self, Bucket: str, Prefix: str = "", StartAfter: str = "", **_: Any
    ) -> Iterator[Dict[str, Any]]:
        contents = [
            {"Key": key, "Size": size}
            for key, size in self._client.sizes(Bucket)
            if key.startswith(Prefix) and key > StartAfter
        ]
        yield {"Contents": contents, "KeyCount": len(contents)}


class LocalBucketClient:
    """boto3's S3 client, the calls the lake's stores make, on ``<root>/<bucket>/<key>``.

    Conditional PUTs (``IfNoneMatch="*"``, ``IfMatch=<etag>``) are decided
    under a file lock, so the lease holds across processes as it does in S3;
    ETags are the MD5 of the body, as S3's are for single-part uploads.
    Listings are sorted by key and skip Hadoop's checksum files and the
    ``_temporary`` folder of a Spark write in progress (neither exists in S3).
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.exceptions = SimpleNamespace(NoSuchKey=NoSuchKey, ClientError=ClientError)
        self._lock = threading.Lock()

    def _path(self, bucket: str, key: str) -> str:
        return os.path.join(self.root, bucket, *key.split("/"))

    def _locked(self, bucket: str) -> Any:
        os.makedirs(os.path.join(self.root, bucket), exist_ok=True)
        handle = open(os.path.join(self.root, f".{bucket}.lock"), "a+")  # noqa: SIM115 - closed by _Lock
        return _Lock(self._lock, handle)

    def sizes(self, bucket: str) -> List[tuple]:
        base = os.path.join(self.root, bucket)
        found = []
        for directory, folders, files in os.walk(base):
            folders[:] = [f for f in folders if f != "_temporary"]
            for name in files:
                if name.endswith(".crc") or name.startswith(".tmp-"):
                    continue
                path = os.path.join(directory, name)
                key = os.path.relpath(path, base).replace(os.sep, "/")
                try:
                    found.append((key, os.path.getsize(path)))
                except FileNotFoundError:  # deleted while listing
                    continue
        return sorted(found)

    # --- boto3's calls ---------------------------------------------------------------
    def get_paginator(self, operation: str) -> _Paginator:
        if operation != "list_objects_v2":
            raise NotImplementedError(operation)
        return _Paginator(self)

    def get_object(self, Bucket: str, Key: str, **_: Any) -> Dict[str, Any]:
        try:
            with open(self._path(Bucket, Key), "rb") as handle:
                body = handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _error("NoSuchKey", "GetObject", NoSuchKey) from None
        return {"Body": io.BytesIO(body), "ETag": _etag(body), "ContentLength": len(body)}

    def head_object(self, Bucket: str, Key: str, **_: Any) -> Dict[str, Any]:
        try:
            with open(self._path(Bucket, Key), "rb") as handle:
                body = handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise _error("404", "HeadObject") from None
        return {"ETag": _etag(body), "ContentLength": len(body)}

    def put_object(
        self,
        Bucket: str,
        Key: str,
        Body: Any = b"",
        IfNoneMatch: Optional[str] = None,
        IfMatch: Optional[str] = None,
        **_: Any,
    ) -> Dict[str, Any]:
        body = (
            Body
            if isinstance(Body, bytes)
            else (Body.encode() if isinstance(Body, str) else Body.read())
        )
        path = self._path(Bucket, Key)
        with self._locked(Bucket):
            if IfNoneMatch is not None or IfMatch is not None:
                try:
                    current = self.head_object(Bucket, Key)["ETag"]
                except ClientError:
                    current = None
                if IfNoneMatch == "*" and current is not None:
                    raise _error("PreconditionFailed", "PutObject")
                if IfMatch is not None and current is None:
                    raise _error("NoSuchKey", "PutObject", NoSuchKey)
                if IfMatch is not None and current != IfMatch:
                    raise _error("PreconditionFailed", "PutObject")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = os.path.join(
                os.path.dirname(path), f".tmp-{os.getpid()}-{threading.get_ident()}"
            )
            with open(temporary, "wb") as handle:
                handle.write(body)
            os.replace(temporary, path)  # whole or nothing, as an S3 PUT
            _drop_checksum(path)
        return {"ETag": _etag(body)}

    def delete_object(self, Bucket: str, Key: str, **_: Any) -> Dict[str, Any]:
        path = self._path(Bucket, Key)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        _drop_checksum(path)
        return {}

    def delete_objects(self, Bucket: str, Delete: Dict[str, Any], **_: Any) -> Dict[str, Any]:
        for item in Delete.get("Objects", []):
            self.delete_object(Bucket, item["Key"])
        return {}


def _drop_checksum(path: str) -> None:
    """A checksum file Hadoop wrote next to a file this client replaces or deletes
    would no longer match it."""
    folder, name = os.path.split(path)
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(folder, f".{name}.crc"))


class _Lock:
    def __init__(self, lock: threading.Lock, handle: Any) -> None:
        self._thread_lock = lock
        self._handle = handle

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._thread_lock.release()


@dataclass(frozen=True)
class LakeRoot:
    """``None``: the lake is in S3 (Glue); else a ``file://`` directory of buckets."""

    directory: Optional[str] = None

    @classmethod
    def parse(cls, value: Optional[str]) -> LakeRoot:
        if not value:
            return cls(None)
        if not value.startswith("file://"):
            raise ValueError(f"--LAKE_ROOT must be a file:// directory, not {value!r}")
        return cls(os.path.abspath(value[len("file://") :]))

    @staticmethod
    def bucket_name(bucket: str) -> str:
        return bucket.replace("s3://", "").strip("/")

    def url(self, bucket: str, key: str = "") -> str:
        """Where Spark reads or writes ``key`` of ``bucket``."""
        name = self.bucket_name(bucket)
        if self.directory is None:
            return f"s3://{name}/{key}"
        return f"file://{self.directory}/{name}/{key}"

    def key_of(self, bucket: str, url: str) -> str:
        """The key of a path Spark reports (``file:/dir/bucket/key``, ``s3://bucket/key``)."""
        from urllib.parse import unquote

        marker = f"/{self.bucket_name(bucket)}/"
        if self.directory is not None:
            marker = f"{self.directory}/{self.bucket_name(bucket)}/"
        path = unquote(url)
        return path[path.index(marker) + len(marker) :]

    def s3_client(self) -> Any:
        """The S3 client of the lake's stores (``None``: boto3's, from the environment)."""
        return None if self.directory is None else LocalBucketClient(self.directory)

    def bronze_source(self, bronze_bucket: str) -> BronzeSource:
        if self.directory is None:
            return open_source(bronze_bucket)
        return LocalSource(os.path.join(self.directory, self.bucket_name(bronze_bucket)))
