"""S3 access for the jobs: light whole-object GETs and PUTs, and listings.

A job makes many whole-object requests (a silver run one GET per bronze
object, a gold run over a hundred GETs and PUTs). A boto3 ``get_object`` /
``put_object`` call spends most of its CPU in event hooks, endpoint rules and
response parsing; here each request is instead SigV4-presigned by boto3 with
the job's own credentials (valid 15 minutes, used at once) and sent on a
urllib3 pool that retries what S3 asks to retry (5xx, SlowDown) and lost
connections, for about half the CPU. Listings, deletes and everything else
still go through the boto3 client (:func:`list_keys`).
"""

from __future__ import annotations

from typing import Any, Dict, List

#: Requests a job keeps in flight (a pool's connections; boto3's default is 10).
DEFAULT_CONNECTIONS = 8
#: How long a presigned request stays valid (it is used at once).
PRESIGN_SECONDS = 900
PARQUET_SUFFIX = ".parquet"


class ObjectError(RuntimeError):
    """An object could not be read or written (after retries)."""


def s3_client(pool: int = DEFAULT_CONNECTIONS + 4) -> Any:
    """An S3 client with a connection for every worker."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(max_pool_connections=pool))


def http_pool(size: int = DEFAULT_CONNECTIONS) -> Any:
    """A urllib3 pool that retries what S3 asks to retry and lost connections."""
    import urllib3
    from botocore.httpsession import get_cert_path
    from urllib3.util.retry import Retry

    retry = Retry(
        total=5,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "PUT"}),  # whole-object PUTs are idempotent
        raise_on_status=False,
    )
    return urllib3.PoolManager(
        maxsize=size,
        retries=retry,
        timeout=urllib3.Timeout(connect=10.0, read=120.0),
        ca_certs=get_cert_path(True),  # the CA bundle boto3 itself trusts
    )


def get_bytes(s3: Any, http: Any, bucket: str, key: str) -> bytes:
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
    )
    response = http.request("GET", url)
    if response.status != 200:
        raise ObjectError(
            f"GET s3://{bucket}/{key}: HTTP {response.status}: {response.data[:300]!r}"
        )
    return bytes(response.data)


def put_bytes(s3: Any, http: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
    # The content type is part of the signature: the request must send the same.
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": content_type},
        ExpiresIn=PRESIGN_SECONDS,
    )
    response = http.request("PUT", url, body=body, headers={"Content-Type": content_type})
    if response.status != 200:
        raise ObjectError(
            f"PUT s3://{bucket}/{key}: HTTP {response.status}: {response.data[:300]!r}"
        )


def list_sizes(s3: Any, bucket: str, prefix: str) -> Dict[str, int]:
    """Every key under ``prefix`` (all pages), with its size in bytes."""
    sizes: Dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        sizes.update((obj["Key"], int(obj.get("Size", 0))) for obj in page.get("Contents", []))
    return sizes


def list_keys(s3: Any, bucket: str, prefix: str) -> List[str]:
    """Every key under ``prefix`` (all pages)."""
    return list(list_sizes(s3, bucket, prefix))


def parquet_sizes(s3: Any, bucket: str, prefix: str) -> Dict[str, int]:
    """The Parquet files under ``prefix``, sorted, with their sizes."""
    found = list_sizes(s3, bucket, prefix)
    return {k: found[k] for k in sorted(found) if k.endswith(PARQUET_SUFFIX)}


def parquet_keys(s3: Any, bucket: str, prefix: str) -> List[str]:
    """The Parquet files under ``prefix``, sorted."""
    return list(parquet_sizes(s3, bucket, prefix))
