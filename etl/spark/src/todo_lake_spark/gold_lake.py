"""A bucket of the AWS endpoint copied into a local lake root.

Locally Spark has no S3 (``todo_lake_spark.lake_root``): what it reads must
be in the ``--LAKE_ROOT`` directory, laid out like the buckets. Where the
local stack put it in the emulator's S3 instead (the bronze its Firehose
delivered, in the demo; silver built by the Python-shell job, in the gold
tests and benchmarks), :func:`mirror_bucket` copies it there.
"""

from __future__ import annotations

import os
import sys
from typing import Any, List, Optional, Set

from todo_lake_spark.lake_root import LakeRoot

__all__ = ["mirror_bucket"]


def mirror_bucket(s3: Any, bucket: str, root: LakeRoot) -> int:
    """Make the local lake root's folder of ``bucket`` hold exactly the bucket's
    objects, under the same keys; returns how many were copied. Local files the
    bucket does not have are removed."""
    if root.directory is None:
        raise ValueError("mirroring needs a local lake root (--LAKE_ROOT file:///dir)")
    name = LakeRoot.bucket_name(bucket)
    base = os.path.join(root.directory, name)
    wanted: Set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            parts = obj["Key"].split("/")
            if any(p in ("", ".", "..") for p in parts):
                raise ValueError(f"refusing to mirror object key {obj['Key']!r}")
            path = os.path.join(base, *parts)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            s3.download_file(name, obj["Key"], path)
            wanted.add(path)
    for directory, _, files in os.walk(base):
        for file_name in files:
            path = os.path.join(directory, file_name)
            if path not in wanted:
                os.remove(path)
    return len(wanted)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m todo_lake_spark.gold_lake BUCKET file:///dir``: mirror one bucket
    of the AWS endpoint (``AWS_ENDPOINT_URL``) into a local lake root."""
    import boto3

    bucket, root = sys.argv[1:] if argv is None else argv
    copied = mirror_bucket(boto3.client("s3"), bucket, LakeRoot.parse(root))
    print(f"mirrored {copied} objects of {bucket} into {root}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
