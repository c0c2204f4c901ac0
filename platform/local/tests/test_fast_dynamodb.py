"""The emulator's direct DynamoDB path answers exactly as moto does.

Two ways: the condition evaluator against moto's own, for any item and any
condition of the supported grammar (it may only say "holds" when moto
does); and whole request sequences (successes, condition failures,
transaction cancellations, validation errors) run through the emulator's
application with and without the fast path, comparing every response, the
table's items and the stream's records.
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_local import fast_dynamodb
from todo_local.emulator import FAKE_CREDENTIALS
from todo_local.fast_dynamodb import Unsupported, parse_condition, parse_update

# --- grammar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "attribute_not_exists(PK)",
        "#v = :v",
        "attribute_exists(PK) AND #last_seen_at < :stale",
        "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
        "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)",
        ":a <= #b",
        "(#a >= :b) AND (#c = :d OR (#e < :f))",
    ],
)
def test_the_products_conditions_are_in_the_grammar(expression: str) -> None:
    parse_condition(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "NOT attribute_exists(#a)",
        "#a <> :b",
        "begins_with(#a, :b)",
        "#a BETWEEN :b AND :c",
        "#a IN (:b, :c)",
        "size(#a) > :b",
        "attribute_exists(name)",  # a reserved word: moto reports the error
        "#a = :b AND",
        "(#a = :b",
        "#a.b = :c",
        "#a[0] = :c",
        "#a = :b and #c = :d",
        "((#a >= :b))",  # redundant parentheses: an error
    ],
)
def test_anything_else_is_left_to_moto(expression: str) -> None:
    with pytest.raises(Unsupported):
        parse_condition(expression)


def test_updates_in_the_grammar() -> None:
    assert parse_update("SET #a = :a, #b = :b ADD #c :c") == [
        ("SET", ("name", "#a"), ":a"),
        ("SET", ("name", "#b"), ":b"),
        ("ADD", ("name", "#c"), ":c"),
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "SET #a = #a + :b",
        "SET #a = if_not_exists(#a, :b)",
        "SET #a = :b SET #c = :d",
        "REMOVE #a",
        "DELETE #a :b",
        "SET #a.b = :c",
        "set #a = :b",
        "",
    ],
)
def test_other_updates_are_left_to_moto(expression: str) -> None:
    with pytest.raises(Unsupported):
        parse_update(expression)


# --- the evaluator against moto's ---------------------------------------------------------

NAMES = {"#a": "a", "#b": "b", "#c": "c"}
scalar = st.one_of(
    st.builds(lambda s: {"S": s}, st.sampled_from(["", "a", "b", "ab", "é", "10", "9"])),
    st.builds(lambda n: {"N": n}, st.sampled_from(["0", "1", "-1", "1.5", "10", "9", "1e2"])),
)
items = st.one_of(
    st.none(), st.dictionaries(st.sampled_from(["a", "b", "c"]), scalar, max_size=3)
)
values = st.fixed_dictionaries({":x": scalar, ":y": scalar})
operand = st.sampled_from(["#a", "#b", "#c", ":x", ":y"])
atom = st.one_of(
    st.builds(
        lambda f, p: f"{f}({p})",
        st.sampled_from(["attribute_exists", "attribute_not_exists"]),
        st.sampled_from(["#a", "#b", "#c"]),
    ),
    st.builds(
        lambda a, op, b: f"{a} {op} {b}", operand, st.sampled_from(["=", "<", "<=", ">", ">="]),
        operand,
    ),
)
conditions = st.recursive(
    atom,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} AND {b}", inner, inner),
        st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
        st.builds(lambda a: f"({a})", inner),
    ),
    max_leaves=6,
)


def _expressions(vals: Dict[str, Any]) -> fast_dynamodb.Expressions:
    # Random conditions use some of the placeholders only: skip that check here.
    expressions = fast_dynamodb.Expressions.__new__(fast_dynamodb.Expressions)
    expressions.names, expressions.values = NAMES, vals
    return expressions


def _moto_item(attrs: Optional[Dict[str, Any]]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    if attrs is None:
        return None
    return Item(DynamoType({"S": "key"}), None, {"pk": {"S": "key"}, **attrs})


def _moto_holds(expression: str, attrs: Optional[Dict[str, Any]], vals: Dict[str, Any]) -> Any:
    from moto.dynamodb.comparisons import get_filter_expression

    try:
        return get_filter_expression(expression, NAMES, vals).expr(_moto_item(attrs))
    except Exception as exc:  # moto may refuse a comparison of mixed types
        return exc


@settings(max_examples=400, deadline=None)
@given(condition=conditions, attrs=items, vals=values)
def test_holds_only_when_moto_says_so(
    condition: str, attrs: Optional[Dict[str, Any]], vals: Dict[str, Any]
) -> None:
    try:
        node = parse_condition(condition)
        verdict = fast_dynamodb.holds(node, _moto_item(attrs), _expressions(vals))
    except Unsupported:
        return  # mixed types, redundant parentheses: moto answers such requests itself
    if verdict:
        assert _moto_holds(condition, attrs, vals) is True


@settings(max_examples=200, deadline=None)
@given(
    condition=conditions,
    attrs=st.fixed_dictionaries({"a": scalar, "b": scalar, "c": scalar}),
    vals=values,
)
def test_agrees_with_moto_when_every_attribute_is_present(
    condition: str, attrs: Dict[str, Any], vals: Dict[str, Any]
) -> None:
    expected = _moto_holds(condition, attrs, vals)
    if not isinstance(expected, bool):
        return  # moto raised: the fast path hands such requests to moto anyway
    try:
        node = parse_condition(condition)
        got = fast_dynamodb.holds(node, _moto_item(attrs), _expressions(vals))
    except Unsupported:
        return  # mixed types, redundant parentheses: moto answers such requests itself
    assert got == expected


# --- whole request sequences, fast path on and off ----------------------------------------

TABLE = "fast-path"
Step = Callable[[Any], Any]


@pytest.fixture(scope="module")
def server() -> Iterator[Dict[str, Any]]:
    """The emulator's application served in this process; ``app`` is switchable."""
    from moto.moto_server import werkzeug_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    from todo_local.moto_server import SerializedApp, build_app, keep_alive_handler

    apps = {"fast": build_app(fast=True), "stock": build_app(fast=False)}
    current = {"app": apps["fast"]}

    def dispatch(environ: Any, start_response: Any) -> Any:
        return current["app"](environ, start_response)

    handler = keep_alive_handler(
        getattr(werkzeug_app, "MotoRequestHandler", None) or WSGIRequestHandler
    )
    httpd = make_server("127.0.0.1", 0, SerializedApp(dispatch), threaded=True,
                        request_handler=handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"port": httpd.server_port, "apps": apps, "current": current}
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(port: int) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        config=Config(retries={"max_attempts": 1}),
    )


def _outcome(call: Callable[[], Dict[str, Any]]) -> Tuple[str, Any]:
    try:
        response = call()
    except ClientError as exc:
        error = dict(exc.response)
        error.pop("ResponseMetadata", None)
        return "error", error
    response.pop("ResponseMetadata", None)
    return "ok", response


def _create_table(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "G1", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "G1", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def key(pk: str, sk: str = "A") -> Dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


IDEMPOTENCY_CONDITION = (
    "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
    "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
)


def _idempotency_put(ddb: Any, pk: str, now: int) -> Dict[str, Any]:
    return ddb.put_item(  # type: ignore[no-any-return]
        TableName=TABLE,
        Item={
            **key(pk),
            "expires_at": {"N": str(now + 100)},
            "in_flight_ms": {"N": str((now + 30) * 1000)},
            "status": {"S": "INPROGRESS"},
        },
        ConditionExpression=IDEMPOTENCY_CONDITION,
        ExpressionAttributeNames={
            "#id": "PK", "#expiry": "expires_at", "#in_progress_expiry": "in_flight_ms",
            "#status": "status",
        },
        ExpressionAttributeValues={
            ":now": {"N": str(now)},
            ":now_in_millis": {"N": str(now * 1000)},
            ":inprogress": {"S": "INPROGRESS"},
        },
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _task_put(pk: str, version: int, expected: Optional[int]) -> Dict[str, Any]:
    put: Dict[str, Any] = {
        "TableName": TABLE,
        "Item": {**key(pk), "G1": {"S": f"G#{pk}"}, "version": {"N": str(version)},
                 "title": {"S": f"v{version}"}, "done": {"BOOL": version % 2 == 0},
                 "note": {"NULL": True}, "empty": {"S": ""}},
    }
    if expected is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "#v = :v"
        put["ExpressionAttributeNames"] = {"#v": "version"}
        put["ExpressionAttributeValues"] = {":v": {"N": str(expected)}}
    return {"Put": put}


def _counter(pk: str, delta: str) -> Dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(pk),
            "UpdateExpression": "ADD #c0 :d0, #c1 :d1",
            "ExpressionAttributeNames": {"#c0": "tasks", "#c1": "completed"},
            "ExpressionAttributeValues": {":d0": {"N": delta}, ":d1": {"N": "1"}},
        }
    }


def scenario(ddb: Any) -> List[Tuple[str, Any]]:
    """The product's request shapes, plus the failures and errors around them."""
    out: List[Tuple[str, Any]] = []

    def run(call: Callable[[], Dict[str, Any]]) -> None:
        out.append(_outcome(call))

    transact = ddb.transact_write_items
    # Idempotency records: new, repeated while in flight, expired, then completed.
    run(lambda: _idempotency_put(ddb, "IDEM#1", 1000))
    run(lambda: _idempotency_put(ddb, "IDEM#1", 1010))
    run(lambda: _idempotency_put(ddb, "IDEM#1", 2000))
    run(lambda: ddb.update_item(
        TableName=TABLE, Key=key("IDEM#1"),
        UpdateExpression="SET #r = :r, #e = :e, #s = :s, #h = :h",
        ExpressionAttributeNames={"#r": "response", "#e": "expires_at", "#s": "status",
                                  "#h": "hash"},
        ExpressionAttributeValues={":r": {"S": '{"status": 201}'}, ":e": {"N": "90000"},
                                   ":s": {"S": "COMPLETED"}, ":h": {"S": "abc"}},
    ))
    run(lambda: _idempotency_put(ddb, "IDEM#1", 2001))
    # Counter shards: the first ADD creates the item (moto's path), later ones add.
    run(lambda: transact(TransactItems=[_task_put("TASK#1", 1, None), _counter("STATS#0", "1")]))
    run(lambda: transact(TransactItems=[_task_put("TASK#2", 1, None), _counter("STATS#0", "1")]))
    run(lambda: transact(TransactItems=[_counter("STATS#0", "-1.5"), _task_put("TASK#1", 2, 1)]))
    # A stale version cancels the whole transaction (the counter must not move).
    run(lambda: transact(TransactItems=[_task_put("TASK#1", 2, 1), _counter("STATS#0", "5")]))
    run(lambda: transact(TransactItems=[_counter("STATS#0", "5"), _task_put("TASK#9", 1, 3)]))
    run(lambda: transact(TransactItems=[
        {"Put": {**_task_put("TASK#2", 2, 7)["Put"],
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ]))
    # A create of an existing id, and the same item twice in one transaction.
    run(lambda: transact(TransactItems=[_task_put("TASK#2", 1, None)]))
    twice = [_task_put("TASK#3", 1, None), _task_put("TASK#3", 1, None)]
    run(lambda: transact(TransactItems=twice))
    # Conditional updates (the user profile's "seen" marker).
    seen = {
        "TableName": TABLE, "Key": key("USER#1"),
        "UpdateExpression": "SET #last_seen_at = :now, #email = :email",
        "ConditionExpression": "attribute_exists(PK) AND #last_seen_at < :stale",
        "ExpressionAttributeNames": {"#last_seen_at": "last_seen_at", "#email": "email"},
        "ExpressionAttributeValues": {":now": {"S": "2026-01-02"}, ":stale": {"S": "2026-01-01"},
                                      ":email": {"S": "a@example.com"}},
    }
    run(lambda: ddb.update_item(**seen))  # no such item
    run(lambda: ddb.put_item(TableName=TABLE, Item={**key("USER#1"),
                                                    "last_seen_at": {"S": "2025-12-31"}}))
    run(lambda: ddb.update_item(**seen))
    run(lambda: ddb.update_item(**seen))  # now fresh: the condition fails
    # Validation errors moto reports: an unused placeholder, a reserved word, a key update.
    run(lambda: ddb.update_item(**{**seen, "ExpressionAttributeValues": {
        **seen["ExpressionAttributeValues"], ":unused": {"S": "x"}}}))
    run(lambda: ddb.put_item(TableName=TABLE, Item=key("X"),
                             ConditionExpression="attribute_not_exists(name)"))
    run(lambda: ddb.update_item(TableName=TABLE, Key=key("USER#1"),
                                UpdateExpression="SET #g = :g",
                                ExpressionAttributeNames={"#g": "G1"},
                                ExpressionAttributeValues={":g": {"S": ""}}))
    run(lambda: ddb.put_item(TableName="no-such-table", Item=key("X")))
    run(lambda: ddb.update_item(TableName=TABLE, Key=key("TASK#1"),
                                UpdateExpression="ADD #t :t",
                                ExpressionAttributeNames={"#t": "title"},
                                ExpressionAttributeValues={":t": {"N": "1"}}))
    # Reads.
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("TASK#1"), ConsistentRead=True))
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("TASK#404")))
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("STATS#0")))
    run(lambda: ddb.get_item(TableName=TABLE, Key={"PK": {"S": "TASK#1"}}))
    run(lambda: ddb.get_item(TableName=TABLE, Key=key("TASK#1"), ProjectionExpression="title"))
    return out


def _state(ddb: Any, port: int) -> Dict[str, Any]:
    items = sorted(
        ddb.scan(TableName=TABLE)["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"])
    )
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = []
    for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
        # moto's SizeBytes measures a JSON text that includes the timestamp.
        ddb_part = {k: v for k, v in record["dynamodb"].items()
                    if k not in ("ApproximateCreationDateTime", "SizeBytes")}
        records.append((record["eventName"], ddb_part))
    return {"items": items, "stream": records}


def _reset(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/moto-api/reset")
    assert conn.getresponse().status == 200
    conn.close()


def _run(server: Dict[str, Any], mode: str) -> Tuple[List[Tuple[str, Any]], Dict[str, Any]]:
    _reset(server["port"])
    server["current"]["app"] = server["apps"][mode]
    ddb = _client(server["port"])
    _create_table(ddb)
    outcomes = scenario(ddb)
    return outcomes, _state(ddb, server["port"])


def test_the_fast_path_answers_exactly_as_moto(server: Dict[str, Any]) -> None:
    fast = server["apps"]["fast"]
    before = (fast.answered, fast.passed_on)
    fast_outcomes, fast_state = _run(server, "fast")
    answered, passed_on = fast.answered - before[0], fast.passed_on - before[1]
    stock_outcomes, stock_state = _run(server, "stock")

    assert len(fast_outcomes) == len(stock_outcomes)
    for i, (got, want) in enumerate(zip(fast_outcomes, stock_outcomes)):
        assert got == want, f"request {i}"
    assert fast_state["items"] == stock_state["items"]
    assert len(fast_state["stream"]) == len(stock_state["stream"])
    for i, (got, want) in enumerate(zip(fast_state["stream"], stock_state["stream"])):
        assert got == want, f"stream record {i}: {got} != {want}"
    # Both kinds of outcome are in the scenario, and the fast path did answer.
    kinds = {kind for kind, _ in stock_outcomes}
    assert kinds == {"ok", "error"}
    codes = {o["Error"]["Code"] for kind, o in stock_outcomes if kind == "error"}
    assert {"ConditionalCheckFailedException", "TransactionCanceledException",
            "ValidationException"} <= codes
    assert answered >= 10
    assert passed_on >= 10


def test_the_scenarios_outcomes_are_the_expected_ones(server: Dict[str, Any]) -> None:
    outcomes, state = _run(server, "fast")
    kinds = [kind for kind, _ in outcomes]
    # in flight (the API answers 409), expired (taken over), completed (replayed upstream)
    assert kinds[:5] == ["ok", "error", "ok", "ok", "error"]
    assert kinds[5:13] == ["ok", "ok", "ok", "error", "error", "error", "error", "error"]
    cancelled = outcomes[8][1]
    assert [r["Code"] for r in cancelled["CancellationReasons"]] == [
        "ConditionalCheckFailed", "None"
    ]
    stats = next(i for i in state["items"] if i["PK"]["S"] == "STATS#0")
    assert stats["tasks"] == {"N": "0.5"}
    assert stats["completed"] == {"N": "3"}
    task = next(i for i in state["items"] if i["PK"]["S"] == "TASK#1")
    assert task["version"] == {"N": "2"}


def test_keep_alive_connections_serve_many_requests(server: Dict[str, Any]) -> None:
    server["current"]["app"] = server["apps"]["fast"]
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=10)
    conn.request("GET", "/moto-api/")
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    assert first.status == 200
    assert first.getheader("Connection") is None
    # A chunked request body is read to its end, so the next request parses.
    body = json.dumps({"TableName": "no-such-table"}).encode()
    chunks = [body[:7], body[7:]]
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=x",
    }
    conn.request("POST", "/", body=iter(chunks), headers=headers, encode_chunked=True)
    second = conn.getresponse()
    assert second.status == 400
    assert b"ResourceNotFoundException" in second.read()
    conn.request("GET", "/moto-api/")
    third = conn.getresponse()
    third.read()
    assert third.status == 200
    assert conn.sock is sock
    # HEAD answers carry the size a GET would return, and no body.
    s3 = boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{server['port']}", region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="keep-alive")
    s3.put_object(Bucket="keep-alive", Key="k", Body=b"x" * 1234)
    assert s3.head_object(Bucket="keep-alive", Key="k")["ContentLength"] == 1234
    assert s3.get_object(Bucket="keep-alive", Key="k")["Body"].read() == b"x" * 1234
    # A client that asks to close gets its connection closed.
    conn.request("GET", "/moto-api/", headers={"Connection": "close"})
    last = conn.getresponse()
    last.read()
    assert last.getheader("Connection") == "close"
    conn.close()


def test_items_are_built_as_moto_builds_them() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    from todo_local.fast_dynamodb import MAX_ITEM_BYTES, new_item

    attrs = {"PK": {"S": "k"}, "n": {"N": "1.5"}, "m": {"M": {"l": {"L": [{"S": "x"}]}}}}
    item = new_item(DynamoType({"S": "k"}), None, attrs)
    assert isinstance(item.attrs, LimitedSizeDict)
    assert item.attrs == {name: DynamoType(value) for name, value in attrs.items()}
    assert item.to_json()["Attributes"] == attrs
    # moto's limit, on the whole item (names and values).
    fits = {"PK": {"S": "k"}, "x": {"S": "a" * (MAX_ITEM_BYTES - 4)}}
    new_item(DynamoType({"S": "k"}), None, fits)
    with pytest.raises(ItemSizeTooLarge):
        new_item(DynamoType({"S": "k"}), None, {**fits, "y": {"S": "b"}})
