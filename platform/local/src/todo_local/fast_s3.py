"""A direct path through the emulator for plain S3 object reads.

The gold job reads every silver Parquet file of its window with whole-object
GETs (presigned URLs and ``get_object`` calls). Through moto's stock stack
each GET pays for werkzeug and Flask dispatch, moto's request setup (query
and header parsing, account and region resolution), its permission checks
and its response assembly: measured at 4.6-7.8 ms per request even for a
6 KB object, so the emulator's per-GET cost dominated the job's read time.

:class:`FastS3GetObject` answers a ``GET`` or ``HEAD`` of an existing object
itself when the request is plain, from moto's own bucket and key objects and
with moto's own header code (``FakeKey.response_dict``, the key's metadata),
in moto's order and casing, so the status, body and headers are the ones
moto would send (only the random request id and the server's date differ,
as they do between any two requests). Anything else is handed to moto
untouched, with the same environ and an unread body:

* any method other than GET and HEAD; a bucket-level request (no key); a key
  that routing could rewrite (empty path segments, ``.``/``..``, a trailing
  slash); a path that is not plain path-style (virtual-host style, access
  points, S3 Control, a host other than ``127.0.0.1``/``localhost``, any
  ``amazonaws.com`` in the URL, from which moto reads a region); a request
  body;
* any query parameter other than the signature parameters of a presigned
  URL (SigV4 ``X-Amz-*``, SigV2 ``AWSAccessKeyId``/``Signature``/``Expires``/
  ``x-amz-security-token``) and botocore's ``x-id``: ``versionId``,
  ``partNumber``, ``response-*``, ``acl``, ``tagging``, ``uploadId``,
  ``attributes``, ``legal-hold``... When there is no query string moto reads
  its parameters from the headers instead, so headers with those names are
  passed on too;
* ``Range``, ``If-Match``, ``If-None-Match``, ``If-Modified-Since``,
  ``If-Unmodified-Since``, ``Origin`` (CORS), SSE-C headers,
  ``x-amz-expected-bucket-owner``, ``x-amz-request-payer``, account headers;
* a request that is neither signed (``Authorization`` header) nor presigned
  (``X-Amz-Signature``/``Signature`` parameter): moto checks the key's ACL
  for anonymous requests, and never for signed ones;
* a missing bucket or key (moto writes the error), a bucket of another
  account, a bucket with a policy (moto evaluates it), CORS rules, access
  logging (moto writes a log object per request), versioning (ever
  configured) or object lock;
* a key with a storage class other than STANDARD, server-side encryption,
  a restore, a lock or legal hold, a version id, or no ``Content-Type``;
* unusual account or region resolution (``MOTO_ACCOUNT_ID``,
  ``x-moto-account-id``, an access key moto's IAM knows, whose last use
  moto records), IAM authorization switched on
  (``INITIAL_NO_AUTH_ACTION_COUNT``) or the request recorder running.

``x-amz-checksum-mode: ENABLED`` (botocore sends it with every
``get_object``) is answered, with the few lines of moto's ``get_object`` and
``head_object`` that add the stored checksum. The bookkeeping moto does for
such a request is done here too (the key's access tick, the unauthenticated
request counter).

Measured (30 presigned GETs through a urllib3 pool, medians, the stock
path in the same run): 6 KB objects 2.9 -> 1.3 ms per GET (2.2x), 2 MB
objects 5.9 -> 3.5 ms (1.7x); this module's own work is about 0.1 ms (0.2 ms
for 2 MB), the rest is the HTTP server and the transfer.

The wrapper must run inside the emulator's request lock (see
:class:`todo_local.moto_server.SerializedApp`), like moto itself.
"""

from __future__ import annotations

import os
import re
import string
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs, unquote

#: Set to 0 to send every S3 request through moto's stock handling.
ENV = "TODO_LOCAL_EMULATOR_FAST_S3"

#: Query parameters that only sign a presigned URL (moto ignores them for a
#: GET of an existing key), plus botocore's operation marker.
SIGNING_PARAMETERS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
        "x-amz-security-token",
        "x-id",
    }
)
#: Request headers (WSGI environ names) that change moto's answer.
PASSED_ON_HEADERS = (
    "HTTP_RANGE",
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_ORIGIN",
    "HTTP_X_AMZ_EXPECTED_BUCKET_OWNER",
    "HTTP_X_AMZ_REQUEST_PAYER",
    "HTTP_X_MOTO_ACCOUNT_ID",
    "HTTP_X_AMZ_TARGET",
)
#: Parameter names moto would read from the headers when there is no query
#: string (lower-cased; ``response-*`` is checked by prefix).
_HEADER_PARAMETERS = frozenset(
    {"versionid", "partnumber", "uploadid", "acl", "tagging", "legal-hold", "attributes"}
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_HOST = re.compile(r"(127\.0\.0\.1|localhost)(:\d+)?")


class Unsupported(Exception):
    """Outside the fast path's subset: moto handles the request."""


def _query(environ: Dict[str, Any]) -> Dict[str, List[str]]:
    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

    query = environ.get("QUERY_STRING", "")
    if not query:
        for name in environ:
            if not name.startswith("HTTP_"):
                continue
            header = name[5:].lower().replace("_", "-")
            if header in _HEADER_PARAMETERS or header.startswith("response-"):
                raise Unsupported(f"header {header} read as a parameter")
        # Underscored header names as moto's request handler preserves them.
        for original in (environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}).values():
            lowered = str(original).lower()
            if lowered in _HEADER_PARAMETERS or lowered.startswith("response-"):
                raise Unsupported(f"header {original} read as a parameter")
        return {}
    parsed = parse_qs(query, keep_blank_values=True)
    if not set(parsed) <= SIGNING_PARAMETERS:
        raise Unsupported("query parameters")
    return parsed


def _location(environ: Dict[str, Any]) -> Tuple[str, str]:
    """(bucket, key) of a plain path-style request, decoded as moto decodes them."""
    raw_uri = environ.get("RAW_URI") or ""
    if not raw_uri.startswith("/") or raw_uri.startswith("//"):
        raise Unsupported("no raw path")
    raw_path = raw_uri.split("?", 1)[0]
    # moto: bucket from the still-encoded path, key from the decoded path.
    bucket = raw_path[1:].partition("/")[0]
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise Unsupported("bucket name")
    key = "/".join(unquote(raw_path).split("/")[2:])
    segments = key.split("/")
    if not key or any(segment in ("", ".", "..") for segment in segments):
        raise Unsupported("key that routing could rewrite")
    # werkzeug's PATH_INFO is what Flask routes on: it must name the same key.
    path_info = environ.get("PATH_INFO", "")
    if isinstance(path_info, str):
        try:
            path_info = path_info.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise Unsupported("path encoding") from None
    if path_info != f"/{bucket}/{key}":
        raise Unsupported("path differs")
    return bucket, key


def _access_key(environ: Dict[str, Any], query: Dict[str, List[str]]) -> str:
    """The access key moto attributes the request to (``BaseResponse.get_access_key``)."""
    from moto.core.responses import BaseResponse

    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization is not None:
        match = BaseResponse.access_key_regex.search(authorization)
        if match:
            return str(match.group(1))
    if query.get("AWSAccessKeyId"):
        return query["AWSAccessKeyId"][0]
    return "AKIAEXAMPLE"


def _backend(environ: Dict[str, Any], query: Dict[str, List[str]]) -> Any:
    """moto's S3 backend for this request, when moto resolves it the simple default way."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.core.utils import extract_region_from_aws_authorization
    from moto.iam.models import iam_backends
    from moto.moto_api import recorder
    from moto.s3.models import s3_backends
    from moto.utilities.utils import PARTITION_NAMES, get_partition

    if (
        "MOTO_ACCOUNT_ID" in os.environ
        or settings.S3_IGNORE_SUBDOMAIN_BUCKETNAME
        or settings.get_s3_custom_endpoints()
        # moto authorizes a request once its count of unauthorized ones is reached.
        or ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
        or getattr(recorder, "_user_enabled", True)
    ):
        raise Unsupported("settings")
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization is not None:
        # moto routes a signed request by its credential scope's service.
        try:
            scope = authorization.split(",")[0].split()[1]
            _, _, _, service, _ = scope.split("/")
        except (IndexError, ValueError):
            raise Unsupported("authorization") from None
        if not authorization.startswith("AWS4-HMAC-SHA256 ") or service != "s3":
            raise Unsupported("not an S3 SigV4 request")
    elif not (query.get("X-Amz-Signature") or query.get("Signature")):
        raise Unsupported("anonymous request: moto checks the key's ACL")
    region = extract_region_from_aws_authorization(authorization or "") or "us-east-1"
    partition = get_partition(region)
    access_key = _access_key(environ, query)
    # moto records the last use of an access key its IAM knows.
    if DEFAULT_ACCOUNT_ID not in iam_backends:
        raise Unsupported("IAM not set up yet")
    for account in list(iam_backends.values()):
        for name in PARTITION_NAMES:
            if access_key in account[name].access_keys:
                raise Unsupported("known access key")
    if DEFAULT_ACCOUNT_ID not in s3_backends or partition not in s3_backends[DEFAULT_ACCOUNT_ID]:
        raise Unsupported("no backend yet")
    return s3_backends[DEFAULT_ACCOUNT_ID][partition]


def _plain_key(backend: Any, bucket_name: str, key_name: str) -> Any:
    from moto.s3.models import FakeKey

    bucket = backend.buckets.get(bucket_name)
    if (
        bucket is None
        or bucket.policy is not None
        or bucket.cors
        or bucket.logging
        or bucket.versioning_status is not None
        or bucket.object_lock_enabled
    ):
        raise Unsupported("bucket")
    # moto's lookup (``S3Backend.get_object``) without its access tick, which is
    # only counted once the request is answered here.
    key = bucket.keys[key_name] if key_name in bucket.keys else None  # noqa: SIM401
    if (
        not isinstance(key, FakeKey)
        or key.storage_class != "STANDARD"
        or key.encryption is not None
        or key._expiry is not None
        or key.version_id != "null"
        or key._is_versioned
        or key.lock_mode
        or key.lock_until
        or key.lock_legal_status
        or "content-type" not in key.metadata
    ):
        raise Unsupported("key")
    return key


def _get_headers(key: Any, checksum_mode: bool) -> Dict[str, str]:
    """The headers of moto's ``S3Response.get_object`` for a plain key."""
    headers: Dict[str, str] = {}
    headers.update(key.response_dict)
    if checksum_mode and key.checksum_algorithm:
        qualified = key.checksum_value
        if key.checksum_type == "COMPOSITE":
            qualified = f"{key.checksum_value}-{key.checksum_parts}"
        headers[f"x-amz-checksum-{key.checksum_algorithm.lower()}"] = qualified
        if key.checksum_type:
            headers["x-amz-checksum-type"] = key.checksum_type
    headers.update(key.metadata)
    headers["Accept-Ranges"] = "bytes"
    return headers


def _head_headers(key: Any, checksum_mode: bool) -> Dict[str, str]:
    """The headers of moto's ``S3Response.head_object`` for a plain key."""
    headers: Dict[str, str] = {}
    headers.update(key.metadata)
    headers.update(key.response_dict)
    headers["Accept-Ranges"] = "bytes"
    if checksum_mode and key.checksum_algorithm:
        headers[f"x-amz-checksum-{key.checksum_algorithm.lower()}"] = key.checksum_value
    return headers


_ID_CHARACTERS = string.ascii_letters + string.digits


def _request_id() -> str:
    """An id shaped like moto's (52 letters and digits), from moto's random source.

    moto draws its 52 characters one ``choice`` at a time, which costs a third
    of this path's own time; ``choices`` draws them in one call.
    """
    from moto.moto_api._internal import mock_random

    return "".join(mock_random.choices(_ID_CHARACTERS, k=52))


class FastS3GetObject:
    """WSGI middleware: plain object GETs and HEADs answered directly, the rest by ``app``."""

    def __init__(self, app: Callable[[Any, Any], Iterable[bytes]]) -> None:
        self._app = app
        self.answered = 0
        self.passed_on = 0

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self._app(environ, start_response)
        try:
            answer = self._answer(environ, method)
        except (Unsupported, ValueError, KeyError, TypeError, AttributeError, ImportError):
            answer = None
        if answer is None:
            self.passed_on += 1
            return self._app(environ, start_response)
        self.answered += 1
        headers, body = answer
        start_response("200 OK", headers)
        return [body]

    def _answer(self, environ: Dict[str, Any], method: str) -> Optional[Tuple[Any, bytes]]:
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        path_info = environ.get("PATH_INFO", "")
        if path_info.startswith(("/moto-api", "/latest/", "/v20180820/", "/favicon.ico")) or (
            # moto routes these unsigned paths to Cognito.
            path_info.rstrip("/").endswith(
                ("/.well-known/jwks.json", "/.well-known/openid-configuration")
            )
        ):
            return None
        host = environ.get("HTTP_HOST", "")
        if not _HOST.fullmatch(host) or "amazonaws.com" in environ.get("RAW_URI", ""):
            raise Unsupported("host")
        if any(name in environ for name in PASSED_ON_HEADERS) or any(
            name.startswith("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION") for name in environ
        ):
            raise Unsupported("header")
        if environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            raise Unsupported("request body")
        checksum = environ.get("HTTP_X_AMZ_CHECKSUM_MODE")
        if checksum not in (None, "ENABLED"):
            raise Unsupported("checksum mode")
        query = _query(environ)
        bucket_name, key_name = _location(environ)
        backend = _backend(environ, query)
        key = _plain_key(backend, bucket_name, key_name)
        checksum_mode = checksum == "ENABLED"
        if method == "GET":
            fields = _get_headers(key, checksum_mode)
            body = key.value
        else:
            fields = _head_headers(key, checksum_mode)
            body = b""
        fields["x-amzn-requestid"] = _request_id()
        # Flask's response sets the length in place of moto's own entry.
        size = str(len(body)) if method == "GET" else fields["content-length"]
        headers = [
            ("Content-Length", size) if name == "content-length" else (name, value)
            for name, value in fields.items()
        ]
        if not settings.DISABLE_GLOBAL_CORS:
            headers.append(("Access-Control-Allow-Origin", "*"))  # flask-cors, no Origin
        # moto's bookkeeping for this request, once nothing can hand it on any
        # more: two lookups of the key, one unauthorized request counted.
        key.advance()
        key.advance()
        ActionAuthenticatorMixin.request_count += 1
        return headers, body


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0"


#: The moto release line whose S3 answers this path reproduces (its tests
#: compare them header for header). The Glue jobs' Python 3.9 environment
#: has an older moto (the last for 3.9); there every request goes to moto.
VERIFIED_MOTO = (5, 2)


def supported() -> bool:
    """Whether the installed moto is the one this path was verified against."""
    try:
        import moto
        from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY  # noqa: F401
        from moto.utilities.utils import PARTITION_NAMES  # noqa: F401
    except ImportError:
        return False
    try:
        version = tuple(int(part) for part in moto.__version__.split(".")[:2])
    except ValueError:
        return False
    return version == VERIFIED_MOTO
