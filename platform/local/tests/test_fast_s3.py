"""The emulator's direct S3 read path answers exactly as moto does.

Every request is sent twice over HTTP to the emulator's application served
in this process, once with the direct path and once with moto's stock
handling, against the same state; status, body and every header (names,
order, values) must be equal, except the headers listed in
:data:`PER_REQUEST`. Counters show that the plain reads were answered by the
direct path and that the other requests were handed on.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Callable, Dict, Iterator, List, Tuple

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from todo_local import fast_s3
from todo_local.emulator import FAKE_CREDENTIALS

#: Headers that differ between any two requests (a random id, the clock); the
#: id is also in error documents' ``RequestId``.
PER_REQUEST = frozenset({"x-amzn-requestid", "date"})
BUCKET = "fast-s3"
KEYS = [
    "event_date=2025-01-01/part-0.parquet",
    "plain",
    "with space/and+plus/100%/x.parquet",
    "unicode/é ü 日本/ключ.bin",
    "query-like?a=b&c=d#frag",
    "tilde~star*(paren)'quote'!semi;colon:at@dollar$comma,",
]
SMALL = bytes(range(256)) * 24  # 6 KB
BIG = bytes(range(251)) * 12000  # ~3 MB


@pytest.fixture(scope="module")
def server() -> Iterator[Dict[str, Any]]:
    """The emulator's application served in this process; ``app`` is switchable."""
    from moto.moto_server import werkzeug_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    from todo_local.moto_server import SerializedApp, build_app, keep_alive_handler

    apps = {"fast": build_app(fast=False, fast_s3=True), "stock": build_app(fast=False)}
    assert isinstance(apps["fast"], fast_s3.FastS3GetObject)
    assert not isinstance(apps["stock"], fast_s3.FastS3GetObject)
    current = {"app": apps["fast"]}

    def dispatch(environ: Any, start_response: Any) -> Any:
        return current["app"](environ, start_response)

    handler = keep_alive_handler(
        getattr(werkzeug_app, "MotoRequestHandler", None) or WSGIRequestHandler
    )
    httpd = make_server(
        "127.0.0.1", 0, SerializedApp(dispatch), threaded=True, request_handler=handler
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    try:
        yield {
            "url": url,
            "apps": apps,
            "current": current,
            "s3": _client(url),
            "s3v2": _client(url, "s3"),
            "http": urllib3.PoolManager(retries=False),
        }
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(url: str, signature_version: str = "s3v4") -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        config=Config(retries={"max_attempts": 1}, signature_version=signature_version),
    )


@pytest.fixture(scope="module")
def bucket(server: Dict[str, Any]) -> str:
    s3 = server["s3"]
    s3.create_bucket(Bucket=BUCKET)
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=SMALL)
    s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="big.parquet", Body=BIG)
    s3.put_object(
        Bucket=BUCKET,
        Key="meta",
        Body=b"{}",
        ContentType="application/json",
        Metadata={"owner": "gold", "Mixed-Case": "Value", "under_score": "1"},
        CacheControl="max-age=60",
        ContentDisposition="inline",
        ContentLanguage="en",
        ContentEncoding="identity",
        Expires="Wed, 21 Oct 2037 07:28:00 GMT",
    )
    s3.put_object(Bucket=BUCKET, Key="tagged", Body=b"t", Tagging="a=1&b=2")
    s3.put_object(Bucket=BUCKET, Key="sha256", Body=b"n", ChecksumAlgorithm="SHA256")
    return BUCKET


Record = Tuple[Any, ...]


def _raw(response: Any) -> Record:
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in PER_REQUEST]
    # moto's error documents repeat the request id.
    body = re.sub(rb"<RequestId>[^<]*</RequestId>", b"<RequestId/>", bytes(response.data))
    return response.status, headers, body


def _boto(call: Callable[[], Dict[str, Any]], s3: Any) -> Record:
    """The parsed answer and the raw headers of a boto3 call (via a botocore event hook)."""
    seen: List[Any] = []

    def hook(http_response: Any, **_: Any) -> None:
        seen.append(
            [(k, v) for k, v in http_response.headers.items() if k.lower() not in PER_REQUEST]
        )

    s3.meta.events.register("after-call.s3", hook)
    try:
        try:
            response = call()
        except ClientError as exc:
            error = dict(exc.response)
            error.pop("ResponseMetadata", None)
            return "error", error, seen
        response.pop("ResponseMetadata", None)
        if "Body" in response:
            response["Body"] = response["Body"].read()
        return "ok", response, seen
    finally:
        s3.meta.events.unregister("after-call.s3", hook)


def both(server: Dict[str, Any], request: Callable[[], Record]) -> Tuple[Record, int, int]:
    """``request``'s outcome with the direct path, checked equal to moto's; and the counts."""
    fast = server["apps"]["fast"]
    before = (fast.answered, fast.passed_on)
    server["current"]["app"] = fast
    try:
        got = request()
        answered, passed_on = fast.answered - before[0], fast.passed_on - before[1]
        server["current"]["app"] = server["apps"]["stock"]
        want = request()
    finally:
        server["current"]["app"] = fast
    assert got == want
    return got, answered, passed_on


def presigned(
    server: Dict[str, Any], key: str, method: str = "GET", v2: bool = False, **params: Any
) -> Callable[[], Record]:
    s3 = server["s3v2" if v2 else "s3"]
    operation = "get_object" if method == "GET" else "head_object"
    url = s3.generate_presigned_url(operation, Params={"Bucket": BUCKET, "Key": key, **params})

    def request() -> Record:
        return _raw(server["http"].request(method, url))

    return request


def get(server: Dict[str, Any], key: str, **params: Any) -> Callable[[], Record]:
    return lambda: _boto(
        lambda: server["s3"].get_object(Bucket=BUCKET, Key=key, **params), server["s3"]
    )


def head(server: Dict[str, Any], key: str, **params: Any) -> Callable[[], Record]:
    return lambda: _boto(
        lambda: server["s3"].head_object(Bucket=BUCKET, Key=key, **params), server["s3"]
    )


# --- answered directly -----------------------------------------------------------------------


@pytest.mark.parametrize("key", [*KEYS, "empty", "big.parquet", "meta", "tagged", "sha256"])
def test_plain_reads_are_answered_directly_and_exactly(
    server: Dict[str, Any], bucket: str, key: str
) -> None:
    requests = [
        get(server, key),
        head(server, key),
        presigned(server, key),
        presigned(server, key, "HEAD"),
        presigned(server, key, v2=True),
    ]
    for request in requests:
        outcome, answered, passed_on = both(server, request)
        assert (answered, passed_on) == (1, 0)
        if outcome[0] == "ok":  # boto3
            response = outcome[1]
            if "Body" in response:
                assert response["ContentLength"] == len(response["Body"])
        else:
            assert outcome[0] == 200


def test_answers_carry_what_moto_stores(server: Dict[str, Any], bucket: str) -> None:
    (_, response, _), answered, _ = both(server, get(server, "meta"))
    assert answered == 1
    assert response["Body"] == b"{}"
    assert response["ContentType"] == "application/json"
    assert response["Metadata"] == {"owner": "gold", "mixed-case": "Value", "under_score": "1"}
    assert response["CacheControl"] == "max-age=60"
    assert response["ContentDisposition"] == "inline"
    assert response["AcceptRanges"] == "bytes"
    (_, tagged, _), _, _ = both(server, head(server, "tagged"))
    assert tagged["TagCount"] == 2
    status, headers, body = both(server, presigned(server, "big.parquet"))[0]
    assert status == 200
    assert body == BIG
    assert dict(headers)["Content-Length"] == str(len(BIG))
    status, headers, body = both(server, presigned(server, "empty"))[0]
    assert (status, body) == (200, b"")
    # botocore asks for the stored checksum; the direct path adds it as moto does.
    (_, checked, _), _, _ = both(server, get(server, "sha256", ChecksumMode="ENABLED"))
    assert checked["ChecksumSHA256"]
    (_, checked, _), answered, _ = both(server, head(server, "sha256", ChecksumMode="ENABLED"))
    assert checked["ChecksumSHA256"]
    assert answered == 1


# --- handed on to moto --------------------------------------------------------------------------


def test_range_reads_are_passed_on(server: Dict[str, Any], bucket: str) -> None:
    (_, response, _), answered, passed_on = both(
        server, get(server, "big.parquet", Range="bytes=10-19")
    )
    assert (answered, passed_on) == (0, 1)
    assert response["Body"] == BIG[10:20]
    assert response["ContentRange"] == f"bytes 10-19/{len(BIG)}"
    url = server["s3"].generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "plain"}
    )

    def ranged() -> Record:
        return _raw(server["http"].request("GET", url, headers={"Range": "bytes=0-3"}))

    (status, _, body), answered, _ = both(server, ranged)
    assert (status, body, answered) == (206, SMALL[:4], 0)


def test_conditional_reads_are_passed_on(server: Dict[str, Any], bucket: str) -> None:
    etag = server["s3"].head_object(Bucket=BUCKET, Key="plain")["ETag"]
    (kind, error, _), answered, _ = both(server, get(server, "plain", IfNoneMatch=etag))
    assert (kind, error["Error"]["Code"], answered) == ("error", "304", 0)
    (kind, _, _), answered, _ = both(server, get(server, "plain", IfMatch=etag))
    assert (kind, answered) == ("ok", 0)
    (kind, error, _), answered, _ = both(server, get(server, "plain", IfMatch='"other"'))
    assert (kind, error["Error"]["Code"], answered) == ("error", "PreconditionFailed", 0)
    for extra in (
        {"IfModifiedSince": "Wed, 21 Oct 2037 07:28:00 GMT"},
        {"IfUnmodifiedSince": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"ExpectedBucketOwner": "123456789012"},
    ):
        _, answered, passed_on = both(server, get(server, "plain", **extra))
        assert (answered, passed_on) == (0, 1)


def test_missing_keys_and_buckets_are_moto_errors(server: Dict[str, Any], bucket: str) -> None:
    (kind, error, _), answered, _ = both(server, get(server, "no/such key"))
    assert (kind, error["Error"]["Code"], answered) == ("error", "NoSuchKey", 0)
    (kind, error, _), _, _ = both(server, head(server, "no/such key"))
    assert (kind, error["Error"]["Code"]) == ("error", "404")
    (status, _, body), answered, _ = both(server, presigned(server, "no/such key"))
    assert (status, answered) == (404, 0)
    assert b"NoSuchKey" in body

    def missing_bucket() -> Record:
        return _boto(
            lambda: server["s3"].get_object(Bucket="no-such-bucket", Key="k"), server["s3"]
        )

    (kind, error, _), answered, _ = both(server, missing_bucket)
    assert (kind, error["Error"]["Code"], answered) == ("error", "NoSuchBucket", 0)


def test_other_requests_are_passed_on(server: Dict[str, Any], bucket: str) -> None:
    s3 = server["s3"]
    for request in (
        get(server, "meta", ResponseContentType="text/plain"),
        get(server, "plain", PartNumber=1),
        presigned(server, "meta", ResponseCacheControl="no-cache"),
        lambda: _boto(lambda: s3.get_object_tagging(Bucket=BUCKET, Key="tagged"), s3),
        lambda: _boto(lambda: s3.get_object_acl(Bucket=BUCKET, Key="plain"), s3),
        lambda: _boto(
            lambda: s3.get_object_attributes(
                Bucket=BUCKET, Key="plain", ObjectAttributes=["ETag", "ObjectSize"]
            ),
            s3,
        ),
        lambda: _boto(lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="event_date="), s3),
        lambda: _boto(lambda: s3.head_bucket(Bucket=BUCKET), s3),
    ):
        outcome, answered, passed_on = both(server, request)
        assert (answered, passed_on) == (0, 1), outcome
    # CORS requests, and an anonymous one (moto checks the key's ACL: 403).
    plain = f"{server['url']}/{BUCKET}/plain"
    for headers in ({"Origin": "http://example.com"}, {}):

        def raw(headers: Dict[str, str] = headers) -> Record:
            return _raw(server["http"].request("GET", plain, headers=headers))

        (status, _, _), answered, _ = both(server, raw)
        assert answered == 0
    assert status == 403


def test_versioned_objects_are_passed_on(server: Dict[str, Any]) -> None:
    s3 = server["s3"]
    s3.create_bucket(Bucket="fast-s3-versioned")
    s3.put_bucket_versioning(
        Bucket="fast-s3-versioned", VersioningConfiguration={"Status": "Enabled"}
    )
    first = s3.put_object(Bucket="fast-s3-versioned", Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket="fast-s3-versioned", Key="k", Body=b"two")

    def read(**params: Any) -> Callable[[], Record]:
        return lambda: _boto(
            lambda: s3.get_object(Bucket="fast-s3-versioned", Key="k", **params), s3
        )

    (_, latest, _), answered, _ = both(server, read())
    assert (latest["Body"], answered) == (b"two", 0)
    (_, old, _), answered, _ = both(server, read(VersionId=first))
    assert (old["Body"], old["VersionId"], answered) == (b"one", first, 0)


def test_unusual_buckets_and_keys_are_passed_on(server: Dict[str, Any]) -> None:
    s3 = server["s3"]
    name = "fast-s3-unusual"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="glacier", Body=b"g", StorageClass="GLACIER")
    s3.put_object(Bucket=name, Key="ia", Body=b"i", StorageClass="STANDARD_IA")
    s3.put_object(Bucket=name, Key="sse", Body=b"s", ServerSideEncryption="AES256")
    s3.put_object(Bucket=name, Key="plain", Body=b"p")

    def read(key: str, bucket_name: str = name) -> Callable[[], Record]:
        return lambda: _boto(lambda: s3.get_object(Bucket=bucket_name, Key=key), s3)

    (kind, error, _), answered, _ = both(server, read("glacier"))
    assert (kind, error["Error"]["Code"], answered) == ("error", "InvalidObjectState", 0)
    for key in ("ia", "sse"):
        (kind, _, _), answered, _ = both(server, read(key))
        assert (kind, answered) == ("ok", 0)
    _, answered, _ = both(server, read("plain"))
    assert answered == 1
    # A bucket policy makes moto's permission check non-trivial.
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{name}/plain",
                    }
                ],
            }
        ),
    )
    (kind, error, _), answered, _ = both(server, read("plain"))
    assert (kind, answered) == ("error", 0)


def test_multipart_objects_are_answered_exactly(server: Dict[str, Any], bucket: str) -> None:
    s3 = server["s3"]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi", ContentType="text/csv")
    parts = []
    for number, chunk in enumerate((b"a" * 5 * 1024 * 1024, b"tail"), start=1):
        etag = s3.upload_part(
            Bucket=BUCKET, Key="multi", UploadId=upload["UploadId"], PartNumber=number, Body=chunk
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="multi", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    (_, response, _), answered, _ = both(server, get(server, "multi"))
    assert answered == 1
    assert response["Body"] == b"a" * 5 * 1024 * 1024 + b"tail"
    assert response["ETag"].endswith('-2"')
    _, answered, _ = both(server, presigned(server, "multi", "HEAD"))
    assert answered == 1
    _, answered, passed_on = both(server, head(server, "multi", PartNumber=2))
    assert (answered, passed_on) == (0, 1)


def test_access_keys_known_to_iam_are_passed_on(server: Dict[str, Any], bucket: str) -> None:
    """moto records when an access key it issued was last used: its requests go to moto."""
    iam = boto3.client(
        "iam",
        endpoint_url=server["url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    iam.create_user(UserName="fast-s3-reader")
    issued = iam.create_access_key(UserName="fast-s3-reader")["AccessKey"]
    s3 = boto3.client(
        "s3",
        endpoint_url=server["url"],
        region_name="us-east-1",
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    # The key's account is the default one, so the bucket is the same.
    (kind, _, _), answered, passed_on = both(
        server, lambda: _boto(lambda: s3.get_object(Bucket=BUCKET, Key="plain"), s3)
    )
    assert (kind, answered, passed_on) == ("ok", 0, 1)
    last_used = iam.get_access_key_last_used(AccessKeyId=issued["AccessKeyId"])
    assert last_used["AccessKeyLastUsed"]["ServiceName"] == "s3"


def test_a_put_is_seen_by_the_next_get(server: Dict[str, Any], bucket: str) -> None:
    s3 = server["s3"]
    server["current"]["app"] = server["apps"]["fast"]
    fast = server["apps"]["fast"]
    for body in (b"first", b"second, longer", b""):
        s3.put_object(Bucket=BUCKET, Key="rewritten", Body=body, Metadata={"n": str(len(body))})
        before = fast.answered
        response = s3.get_object(Bucket=BUCKET, Key="rewritten")
        assert response["Body"].read() == body
        assert response["Metadata"] == {"n": str(len(body))}
        assert fast.answered == before + 1
        both(server, get(server, "rewritten"))
    s3.delete_object(Bucket=BUCKET, Key="rewritten")
    (kind, error, _), answered, _ = both(server, get(server, "rewritten"))
    assert (kind, error["Error"]["Code"], answered) == ("error", "NoSuchKey", 0)


# --- any key name --------------------------------------------------------------------------------

key_names = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("=/ %+?&#~*()'!;:@$,.-_")),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF, blacklist_categories=("Cs",)),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=key_names)
def test_any_key_name_reads_as_moto_reads_it(server: Dict[str, Any], bucket: str, key: str) -> None:
    server["current"]["app"] = server["apps"]["fast"]
    body = key.encode("utf-8")
    try:
        server["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
    except ClientError:
        return  # a name moto refuses: nothing to read
    plain = all(segment not in ("", ".", "..") for segment in key.split("/"))
    for request in (get(server, key), presigned(server, key), head(server, key)):
        outcome, answered, _ = both(server, request)
        # Names with empty or dot segments are handed to moto (routing may rewrite
        # them); either way the answers are equal (checked by ``both``).
        assert answered == (1 if plain else 0), (key, outcome)
    server["s3"].delete_object(Bucket=BUCKET, Key=key)


def _layers(app: Any) -> List[Any]:
    """The WSGI wrappers of ``app``, outermost first (each keeps the next as ``_app``)."""
    found = []
    while app is not None:
        found.append(app)
        app = getattr(app, "_app", None)
    return found


def _has_fast_s3(app: Any) -> bool:
    return any(isinstance(layer, fast_s3.FastS3GetObject) for layer in _layers(app))


def test_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from todo_local.moto_server import build_app

    monkeypatch.setenv(fast_s3.ENV, "0")
    assert not fast_s3.enabled()
    assert not _has_fast_s3(build_app(fast=None))
    monkeypatch.setenv(fast_s3.ENV, "1")
    assert fast_s3.enabled()
    assert _has_fast_s3(build_app(fast=None))
    monkeypatch.delenv(fast_s3.ENV)
    assert fast_s3.enabled()


def test_only_the_verified_moto_gets_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another moto may answer differently: then every request goes to moto."""
    import moto

    from todo_local.moto_server import build_app

    assert fast_s3.supported()  # the moto these tests compare against
    monkeypatch.setattr(moto, "__version__", "5.1.22")
    assert not fast_s3.supported()
    assert not _has_fast_s3(build_app(fast=True, fast_s3=True))
