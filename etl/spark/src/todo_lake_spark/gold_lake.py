"""Where Spark finds the lake's buckets: the lake root.

On Glue the root is ``s3://`` and a table of bucket ``b`` is
``s3://b/<table>/``. Off Glue Spark has no S3 file system (the
``hadoop-aws`` jars are not in the pyspark wheel), so the root is a local
directory laid out exactly like the buckets, ``file:///lake/b/<table>/``,
while the catalog calls still go to the AWS endpoint (the emulator).
:func:`mirror_bucket` copies a bucket of the emulator into such a directory
(the demo's bronze, the tests' silver).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, List, Optional, Set

__all__ = ["GLUE_LAKE_ROOT", "clear", "lake_root", "local_directory", "mirror_bucket", "table_url"]

#: The root of every bucket on Glue.
GLUE_LAKE_ROOT = "s3://"
_SCHEMES = ("s3://", "s3a://", "file:///")


def lake_root(value: str) -> str:
    """``value`` as a lake root ending in ``/``: ``s3://``, or ``file:///abs/dir/``
    (a plain absolute path is taken as a local directory)."""
    if value.startswith("/"):
        value = "file://" + value
    if not value.startswith(_SCHEMES):
        raise ValueError(f"a lake root is s3:// or file:///<absolute dir>, not {value!r}")
    return value if value.endswith("/") else value + "/"


def table_url(root: str, bucket: str, table: str) -> str:
    """The URL of ``table`` of ``bucket`` (``s3://b`` or ``b``) under ``root``."""
    name = bucket.replace("s3://", "").strip("/")
    return f"{lake_root(root)}{name}/{table}/"


def local_directory(root: str) -> str:
    """The local directory of a ``file://`` lake root."""
    root = lake_root(root)
    if not root.startswith("file://"):
        raise ValueError(f"{root!r} is not a local lake root")
    return root[len("file://") :]


def mirror_bucket(s3: Any, bucket: str, root: str) -> int:
    """Make ``<root>/<bucket>/`` hold exactly the bucket's objects (same keys);
    returns how many were copied. Local files the bucket no longer has are removed."""
    base = os.path.join(local_directory(root), bucket)
    wanted: Set[str] = set()
    copied = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            parts = key.split("/")
            if any(p in ("", ".", "..") for p in parts):
                raise ValueError(f"refusing to mirror object key {key!r}")
            path = os.path.join(base, *parts)
            wanted.add(path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            s3.download_file(bucket, key, path)
            copied += 1
    for directory, _, files in os.walk(base):
        for name in files:
            path = os.path.join(directory, name)
            if path not in wanted:
                os.remove(path)
    return copied


def clear(root: str) -> None:
    """Remove a local lake root's directory and everything in it."""
    shutil.rmtree(local_directory(root), ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m todo_lake_spark.gold_lake BUCKET ROOT``: mirror one bucket of
    the AWS endpoint (``AWS_ENDPOINT_URL``) into a local lake root."""
    import boto3

    bucket, root = sys.argv[1:] if argv is None else argv
    copied = mirror_bucket(boto3.client("s3"), bucket, root)
    print(f"mirrored {copied} objects of {bucket} into {lake_root(root)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
