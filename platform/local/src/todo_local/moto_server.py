"""The emulator's server process: moto's server app, one request at a time.

``python -m moto.server`` answers every request on its own thread, and moto's
backends do not lock: two conditional writes to the same DynamoDB item can
both pass their condition check before either applies (measured: concurrent
``update_task`` calls lost writes). AWS guarantees that a conditional write or
a transaction is atomic, and the code under test relies on it. This launcher
runs the same moto application behind a lock, so each request is applied
atomically, as in AWS. Connections are still accepted concurrently; only the
work inside moto is serialized (it is bound by the GIL anyway).

It also replaces how moto rolls back a failed DynamoDB transaction. moto
deep-copies every table a transaction touches, items and stream records
included, before applying it, so each ``TransactWriteItems`` costs time in
proportion to everything ever written (measured: 140 ms per task create with
100 tasks in the table, 780 ms with 500). Here the conditions are checked
first (as AWS does: nothing is written when one fails), then the writes are
applied with a backup of only the items they touch. The request and error
shapes are moto's own; anything unusual (a missing table, a repeated key, an
invalid expression) is handed to moto's original code unchanged.

For speed (the demo makes hundreds of thousands of requests) connections
are kept open (:func:`keep_alive_handler`), the product's hot DynamoDB
requests take a direct path through moto's backend
(:mod:`todo_local.fast_dynamodb`, verified against moto by the tests), plain
S3 object GETs and HEADs (the gold job's Parquet reads) are answered from
moto's S3 backend directly (:mod:`todo_local.fast_s3`, likewise verified), hot
responses skip moto's model-driven serializer (:func:`patch_serialization`),
and two of moto's per-request costs are removed (:func:`patch_dispatch`,
:func:`patch_items`); a base-table Query reads only its partition
(:func:`patch_queries`).

Run as ``python -m todo_local.moto_server -H 127.0.0.1 -p PORT [--parent-pid PID]``.
With ``--parent-pid`` the server exits as soon as that process is gone, so a
crashed or killed test run never leaves an emulator behind.
"""

from __future__ import annotations

import argparse
import calendar
import copy
import datetime
import json
import os
import signal
import socket
import sys
import threading
import time
import types
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

WsgiApp = Callable[[Any, Any], Iterable[bytes]]


class SerializedApp:
    """A WSGI app that runs ``app`` for one request at a time.

    The response body is produced inside the lock too: moto may compute it
    lazily, and state must not change between the check and the answer.
    """

    def __init__(self, app: WsgiApp, profiler: Any = None) -> None:
        self._app = app
        self._lock = threading.Lock()
        #: A ``cProfile.Profile`` to run each request under (see ``PROFILE_ENV``).
        self._profiler = profiler

    def __call__(self, environ: Any, start_response: Any) -> List[bytes]:
        with self._lock:
            if self._profiler is not None:
                self._profiler.enable()
            try:
                result = self._app(environ, start_response)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                if self._profiler is not None:
                    self._profiler.disable()
        return [body]


class _FallBack(Exception):
    """The transaction is unusual: let moto's original code handle all of it."""


def patch_transactions() -> None:
    """Make moto's TransactWriteItems cost O(items in the transaction)."""
    from moto.dynamodb import models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models.table import Table

    backend_class = models.DynamoDBBackend
    original = backend_class.transact_write_items
    if getattr(original, "_todo_local_patched", False):
        return
    real_copy = models.copy
    # While the original runs, its whole-table "backup" is the table itself.
    no_table_copies = types.SimpleNamespace(
        copy=copy.copy,
        deepcopy=lambda x, memo=None: x if isinstance(x, Table) else copy.deepcopy(x, memo),
    )

    def targets(backend: Any, items: List[Dict[str, Any]]) -> List[Tuple[str, Any, Any]]:
        seen = set()
        out = []
        for entry in items:
            if len(entry) != 1:
                raise _FallBack
            op_type, op = next(iter(entry.items()))
            if op_type not in ("ConditionCheck", "Put", "Delete", "Update"):
                raise _FallBack
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            identity = (op["TableName"], str(sorted(key.items())))
            if identity in seen:
                raise _FallBack
            seen.add(identity)
            out.append((op["TableName"], key, op))
        return out

    def check_conditions(backend: Any, plan: List[Tuple[str, Any, Any]]) -> None:
        errors: List[Tuple[Any, Any, Any]] = []
        for table_name, key, op in plan:
            current = backend.get_item(table_name, key)
            expression = op.get("ConditionExpression")
            if expression is None:
                errors.append((None, None, None))
                continue
            condition = get_filter_expression(
                expression,
                op.get("ExpressionAttributeNames"),
                op.get("ExpressionAttributeValues"),
            )
            if condition.expr(current):
                errors.append((None, None, None))
            else:
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

    def transact_write_items(self: Any, transact_items: List[Dict[str, Any]]) -> None:
        try:
            plan = targets(self, transact_items)
            check_conditions(self, plan)
        except TransactionCanceledException:
            raise
        except Exception:  # unusual request: moto's own code, errors and all
            return original(self, transact_items)  # type: ignore[no-any-return]
        backups = []
        for table_name, key, _ in plan:
            item = self.get_item(table_name, key)
            backups.append((table_name, key, item.to_json()["Attributes"] if item else None))
        models.copy = no_table_copies
        try:
            return original(self, transact_items)  # type: ignore[no-any-return]
        except Exception:
            models.copy = real_copy
            for table_name, key, attrs in reversed(backups):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise
        finally:
            models.copy = real_copy

    transact_write_items._todo_local_patched = True  # type: ignore[attr-defined]
    backend_class.transact_write_items = transact_write_items


#: Set to a file path to profile the work done inside the lock (cProfile,
#: written with ``pstats`` format when the server exits).
PROFILE_ENV = "TODO_LOCAL_EMULATOR_PROFILE"


def _profiler() -> Any:
    path = os.environ.get(PROFILE_ENV)
    if not path:
        return None
    import atexit
    import cProfile

    profiler = cProfile.Profile()
    atexit.register(profiler.dump_stats, path)
    return profiler


#: Operations whose successful responses are encoded by :func:`fast_json_body`.
FAST_RESPONSES = frozenset(
    {
        ("dynamodb", "GetItem"),
        ("dynamodb", "PutItem"),
        ("dynamodb", "UpdateItem"),
        ("dynamodb", "Query"),
        ("dynamodb", "TransactWriteItems"),
        ("dynamodbstreams", "GetRecords"),
    }
)
#: Set to 1 to encode each fast response both ways and fail loudly on any
#: difference (used by the tests; costs the time the fast path saves).
VERIFY_ENV = "TODO_LOCAL_EMULATOR_VERIFY_FAST_JSON"


class _NotPlain(Exception):
    """The result holds something only the model-driven serializer knows how to encode."""


def _plain(value: Any) -> Any:
    """``value`` as JSON-native data, as moto's JSON serializer would emit it.

    Only the shapes of the operations in :data:`FAST_RESPONSES` are covered:
    strings, numbers, booleans, lists, maps and timestamps (epoch seconds,
    milliseconds kept). Binary attribute values (``B``/``BS``: blobs get
    base64 treatment from the model) and anything else send the whole
    response back to moto's serializer.
    """
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if inner is None:
                continue
            if key in ("B", "BS"):
                raise _NotPlain
            out[key] = _plain(inner)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(inner) for inner in value]
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        base = calendar.timegm(value.timetuple())
        return base + (value.microsecond // 1000) / 1000.0 if value.microsecond else base
    raise _NotPlain


def fast_json_body(result: Any) -> Optional[str]:
    """The JSON body for ``result``, or None when moto's serializer must do it."""
    try:
        return json.dumps(_plain(result))
    except _NotPlain:
        return None


def patch_serialization() -> None:
    """Encode the hot DynamoDB responses with ``json.dumps`` instead of moto's serializer.

    moto 5.2 serializes every response by walking the botocore output shape
    value by value; for DynamoDB items and stream records (maps of typed
    attribute values) that costs milliseconds per item: about 7 ms per stream
    record in GetRecords. The data moto returns for these operations is
    already in the wire shape, so a plain JSON encoding gives the same body.
    Errors and anything not plain (see :func:`_plain`) still go through moto.
    Only operations whose results hold nothing but model members are listed
    (DeleteItem is not: moto adds ``ConsumedCapacityUnits``, which the
    serializer drops); the tests check each one against moto's encoding.
    """
    from moto.core.responses import ActionResult, BaseResponse

    original = BaseResponse.serialized
    if getattr(original, "_todo_local_patched", False):
        return
    verify = os.environ.get(VERIFY_ENV) == "1"

    def serialized(self: Any, action_result: ActionResult) -> Any:
        result = action_result.result
        if isinstance(result, Exception) or (
            (self.boto3_service_name, self._get_action()) not in FAST_RESPONSES
        ):
            return original(self, action_result)
        body = fast_json_body(result)
        if body is None:
            return original(self, action_result)
        if verify:
            status, headers, expected = original(self, action_result)
            if json.loads(expected) != json.loads(body) or status != 200:
                raise AssertionError(
                    f"fast JSON differs for {self._get_action()}: {body} != {expected}"
                )
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        headers.update(self.response_headers)
        return 200, headers, body

    serialized._todo_local_patched = True  # type: ignore[attr-defined]
    BaseResponse.serialized = serialized


def patch_dispatch() -> None:
    """Stop moto from listing its own package directory on every request.

    moto's request router asks ``list_of_moto_modules()`` (an ``os.listdir``
    plus an ``isdir`` per entry, about 150 of them) whether a host name is a
    service name, once or twice per request. The listing never changes while
    the server runs.
    """
    from moto import backends

    if getattr(backends.list_of_moto_modules, "_todo_local_patched", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> Tuple[str, ...]:
        return modules

    list_of_moto_modules._todo_local_patched = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules


def patch_items() -> None:
    """Build moto's DynamoDB items in linear time (see ``fast_dynamodb.new_item``)."""
    from moto.dynamodb.models.dynamo_type import Item

    from todo_local.fast_dynamodb import new_item

    if getattr(Item.__init__, "_todo_local_patched", False):
        return

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: Dict[str, Any]) -> None:
        built = new_item(hash_key, range_key, attrs)
        self.hash_key, self.range_key, self.attrs = built.hash_key, built.range_key, built.attrs

    __init__._todo_local_patched = True  # type: ignore[attr-defined]
    Item.__init__ = __init__  # type: ignore[method-assign]


#: Base-table Queries read only their partition (see :func:`patch_queries`);
#: a benchmark switches this off to measure moto's own read path.
PARTITION_QUERIES = {"on": True}
#: ``Table.query``'s positional parameters after ``hash_key``, up to ``index_name``.
_INDEX_NAME_POSITION = 6


def patch_queries() -> None:
    """Answer a base-table Query from the partition it names, as DynamoDB does.

    moto lists every item of the table for every base-table Query and keeps
    those with the partition key asked for, so a Query that returns three
    items costs as much as a Scan: against the full-size demo's table (its
    idempotency records included) the metrics collector's sixteen activity
    Queries took 24 s. Handing moto's own query code just that partition
    gives the same result. Index Queries keep moto's path. Requests are
    serialized (:class:`SerializedApp`), so the per-call override cannot
    leak into another request.
    """
    from moto.dynamodb.models.table import Table

    original = Table.query
    if getattr(original, "_todo_local_patched", False):
        return

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get(
            "index_name", args[_INDEX_NAME_POSITION] if len(args) > _INDEX_NAME_POSITION else None
        )
        if not PARTITION_QUERIES["on"] or index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query._todo_local_patched = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def build_app(fast: Optional[bool] = None, fast_s3: Optional[bool] = None) -> WsgiApp:
    """moto's server application with this module's changes (not yet serialized).

    ``fast`` switches the direct DynamoDB path, ``fast_s3`` the direct S3 read
    path (by default the one ``fast`` says, or its environment switch).
    """
    from moto.moto_server import werkzeug_app

    from todo_local import fast_dynamodb
    from todo_local import fast_s3 as fast_s3_module

    app: WsgiApp = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
    patch_dispatch()
    patch_items()
    patch_transactions()
    patch_queries()
    patch_serialization()
    if fast_s3 is None:
        fast_s3 = fast_s3_module.enabled() if fast is None else fast
    if fast_s3 and fast_s3_module.supported():
        app = fast_s3_module.FastS3GetObject(app)
    # Outermost, so that its request counters are the app's (the tests read them).
    if fast_dynamodb.enabled() if fast is None else fast:
        app = fast_dynamodb.FastDynamoDB(app)
    return app


def keep_alive_handler(base: Any) -> Any:
    """A werkzeug request handler class that keeps HTTP/1.1 connections open.

    werkzeug's development server closes the connection after every response
    (it cannot tell where an unread request body ends), so every AWS call
    paid for a new TCP connection on both sides and a new server thread:
    measured at about 3 ms of the emulator's CPU per request, more than the
    fast path spends on the request itself. This handler reads each request
    body completely (by ``Content-Length``, or to the last chunk) before the
    application runs, so the stream is always at the next request; it answers
    with a ``Content-Length`` and leaves the connection open unless the
    client asked to close it. Headers, environ and errors are werkzeug's and
    moto's (``make_environ`` is inherited).
    """
    import io

    class KeepAliveRequestHandler(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def run_wsgi(self) -> None:
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.environ = environ = self.make_environ()
            stream = environ["wsgi.input"]
            if environ.get("wsgi.input_terminated"):  # chunked: read to the last chunk
                body = stream.read()
            else:
                try:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = -1
                body = stream.read(length) if length > 0 else b""
                if length < 0 or len(body) < length:
                    self.close_connection = True  # a malformed or truncated request
                    self.send_error(400)
                    return
            environ["wsgi.input"] = io.BytesIO(body)
            response: List[Any] = []
            written: List[bytes] = []

            def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
                response[:] = [status, headers]
                return written.append

            try:
                result = self.server.app(environ, start_response)
                try:
                    written.extend(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except Exception:
                import traceback

                self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
                self.close_connection = True
                response[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]]
                written[:] = [b"Internal Server Error"]
            status, headers = response
            payload = b"".join(written)
            code_text, _, reason = status.partition(" ")
            code = int(code_text)
            self.send_response_only(code, reason)
            names = set()
            declared = None
            for name, value in headers:
                if name.lower() == "content-length":
                    declared = value
                    continue
                if name.lower() in ("connection", "transfer-encoding"):
                    continue
                names.add(name.lower())
                self.send_header(name, value)
            if "server" not in names:
                self.send_header("Server", self.version_string())
            if "date" not in names:
                self.send_header("Date", self.date_time_string())
            head = environ["REQUEST_METHOD"] == "HEAD"
            bodiless = head or code < 200 or code in (204, 304)
            if head and declared is not None:
                # The size a GET would return (S3 HeadObject's ContentLength).
                self.send_header("Content-Length", declared)
            elif not (code < 200 or code in (204, 304)):
                self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            # Head and body in one write: two small writes on a kept-alive
            # connection meet Nagle's algorithm and the peer's delayed ACK.
            self._headers_buffer.append(b"\r\n")
            if payload and not bodiless:
                self._headers_buffer.append(payload)
            self.flush_headers()
            if code >= 400:  # successes are not logged: the demo makes 100,000s
                self.log_request(code, len(payload))

    return KeepAliveRequestHandler


def _exit(*_: object) -> None:
    sys.exit(0)


def _exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """Exit when ``parent`` dies (this process is then re-parented)."""
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="todo_local.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        threading.Thread(
            target=_exit_with_parent, args=(args.parent_pid,), name="parent-watch", daemon=True
        ).start()

    # Imported here so that importing this module (e.g. for tests) stays cheap.
    from moto.moto_server import werkzeug_app
    from werkzeug.serving import WSGIRequestHandler, run_simple

    app = build_app()
    # moto >= 5.2 keeps S3 metadata headers with underscores through its own
    # request handler; older releases have none and use werkzeug's.
    handler = keep_alive_handler(
        getattr(werkzeug_app, "MotoRequestHandler", None) or WSGIRequestHandler
    )
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    run_simple(
        args.host,
        args.port,
        SerializedApp(app, _profiler()),
        threaded=True,
        request_handler=handler,
    )


if __name__ == "__main__":
    main()
