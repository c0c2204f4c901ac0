"""Presigned whole-object requests against the emulator's S3."""

import boto3
import pytest

from todo_lake import s3io
from todo_lake.s3io import ObjectError

pytestmark = pytest.mark.integration


def test_presigned_puts_store_the_object_and_fail_loudly(names):
    s3, http = s3io.s3_client(), s3io.http_pool()
    s3io.put_bytes(s3, http, names.gold_bucket, "p/one.bin", b"\x00body", "application/x-test")
    stored = boto3.client("s3").get_object(Bucket=names.gold_bucket, Key="p/one.bin")
    assert stored["Body"].read() == b"\x00body"
    assert stored["ContentType"] == "application/x-test"
    with pytest.raises(ObjectError, match=r"PUT s3://no-such-bucket-here/p/two\.bin: HTTP 404"):
        s3io.put_bytes(s3, http, "no-such-bucket-here", "p/two.bin", b"x", "application/x-test")


def test_presigned_gets_read_the_object_and_fail_loudly(names):
    s3, http = s3io.s3_client(), s3io.http_pool()
    boto3.client("s3").put_object(Bucket=names.silver_bucket, Key="g/one.bin", Body=b"\x01got")
    assert s3io.get_bytes(s3, http, names.silver_bucket, "g/one.bin") == b"\x01got"
    with pytest.raises(ObjectError, match=r"GET s3://.*/g/missing\.bin: HTTP 404"):
        s3io.get_bytes(s3, http, names.silver_bucket, "g/missing.bin")


def test_listings_and_parquet_keys(names):
    client = boto3.client("s3")
    bucket = names.silver_bucket
    for i in range(3):
        client.put_object(Bucket=bucket, Key=f"t/d={i}/f{i}.parquet", Body=b"x")
    client.put_object(Bucket=bucket, Key="t/_SUCCESS", Body=b"")
    client.put_object(Bucket=bucket, Key="other/f.parquet", Body=b"x")
    assert sorted(s3io.list_keys(client, bucket, "t/")) == [
        "t/_SUCCESS",
        "t/d=0/f0.parquet",
        "t/d=1/f1.parquet",
        "t/d=2/f2.parquet",
    ]
    assert s3io.parquet_keys(client, bucket, "t/") == [
        "t/d=0/f0.parquet",
        "t/d=1/f1.parquet",
        "t/d=2/f2.parquet",
    ]
