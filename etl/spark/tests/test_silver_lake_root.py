"""The local lake root answers the lake's stores as the emulator's S3 does
(the calls they make), so the Spark job's bookkeeping behaves alike off Glue."""

from __future__ import annotations

import pytest

from todo_lake.lease import Lease, LeaseHeld
from todo_lake.store import LakeStore
from todo_lake_spark.lake_root import LakeRoot, LocalBucketClient

pytestmark = pytest.mark.integration


def _conversation(s3, bucket):
    """Every kind of call the stores make, and what each answered."""
    out = []
    first = s3.put_object(Bucket=bucket, Key="_state/lease.json", Body=b"one", IfNoneMatch="*")
    out.append(("etag", first["ETag"].strip('"')))
    for condition in ({"IfNoneMatch": "*"}, {"IfMatch": '"0000"'}):
        try:
            s3.put_object(Bucket=bucket, Key="_state/lease.json", Body=b"two", **condition)
            out.append("accepted")
        except Exception as exc:
            out.append(exc.response["Error"]["Code"])
    second = s3.put_object(
        Bucket=bucket, Key="_state/lease.json", Body=b"two", IfMatch=first["ETag"]
    )
    out.append(s3.head_object(Bucket=bucket, Key="_state/lease.json")["ETag"] == second["ETag"])
    for key in ("t/a=1/x.parquet", "t/a=2/y.parquet", "t2/z", "t/a=1/w.parquet"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="t/")
    out.append([(o["Key"], o["Size"]) for p in pages for o in p.get("Contents", [])])
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="t", StartAfter="t/a=1/x.parquet"
    )
    out.append([o["Key"] for p in pages for o in p.get("Contents", [])])
    s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "t/a=1/x.parquet"}, {"Key": "nope"}], "Quiet": True},
    )
    out.append(s3.get_object(Bucket=bucket, Key="t/a=1/w.parquet")["Body"].read())
    try:
        s3.get_object(Bucket=bucket, Key="t/a=1/x.parquet")
    except s3.exceptions.NoSuchKey:
        out.append("NoSuchKey")
    return out


def test_the_local_bucket_answers_as_the_emulator(local_stack, tmp_path):
    local_stack.empty_data_lake()
    bucket = local_stack.names.silver_bucket
    emulator = _conversation(local_stack.client("s3"), bucket)
    local = _conversation(LocalBucketClient(str(tmp_path)), bucket)
    assert local == emulator


def test_the_lease_holds_on_the_local_bucket(tmp_path):
    store = LakeStore("silver", "db", s3_client=LocalBucketClient(str(tmp_path)))
    first = Lease(store, "run-1", 600)
    first.acquire()
    with pytest.raises(LeaseHeld):
        Lease(store, "run-2", 600).acquire()
    first.release()
    second = Lease(store, "run-2", 600)
    second.acquire()
    second.release()


def test_lake_root_paths():
    local = LakeRoot.parse("file:///tmp/lake")
    assert local.url("s3://silver", "tasks/") == "file:///tmp/lake/silver/tasks/"
    assert (
        local.key_of("silver", "file:/tmp/lake/silver/tasks/created_date%3D1/x")
        == "tasks/created_date=1/x"
    )
    glue = LakeRoot.parse(None)
    assert glue.url("silver", "tasks/") == "s3://silver/tasks/"
    assert glue.key_of("silver", "s3://silver/cdc/2025/01/01/00/x") == "cdc/2025/01/01/00/x"
    with pytest.raises(ValueError, match="file://"):
        LakeRoot.parse("s3://bucket")
