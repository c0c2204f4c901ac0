"""The emulator's HTTP handling: kept-alive connections, whole bodies read,
``HEAD`` sizes, and moto's request routing listing its package only once."""

from __future__ import annotations

import http.client
import json
from typing import Any, Dict

import pytest
from requests_scenario import client

from todo_emulator import patches


def test_keep_alive_connections_serve_many_requests(server: Dict[str, Any]) -> None:
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
    s3 = client(server["port"], "s3")
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


def test_moto_lists_its_package_once(
    server: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import backends

    listed = []
    stock = backends.list_of_moto_modules.__wrapped__

    def counting() -> Any:
        listed.append(1)
        return stock()

    monkeypatch.setattr(backends, "list_of_moto_modules", counting)
    patches.patch_module_listing()
    assert len(listed) == 1
    installed = backends.list_of_moto_modules
    for _ in range(3):
        client(server["port"]).list_tables()
        assert installed() == tuple(stock())
    assert len(listed) == 1
    assert "dynamodb" in installed()
