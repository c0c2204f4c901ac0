"""Stream records as ``GetRecords`` returns them (boto3 shapes) -> the records
Lambda's event source mapping hands the function.

Two readers of the stream hand records to a function as Lambda would: the
local event-source-mapping runner and the CDC redrive command (which must
produce exactly the bronze lines the Lambda would have produced). Both use
this one conversion. The records are given Lambda's shapes:
``ApproximateCreationDateTime`` in whole epoch seconds, binary attributes as
base64 text, ``eventSourceARN`` set, and the whole record round-tripped
through JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, Dict, Mapping, Sequence, Union

EVENT_VERSION = "1.1"


def _b64(value: Union[bytes, bytearray, str]) -> str:
    if isinstance(value, str):  # already text (some clients return it so)
        return value
    return base64.b64encode(bytes(value)).decode("ascii")


def _attribute(value: Mapping[str, Any]) -> Dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_attribute(v) for v in inner]}
    return {kind: inner}


def _epoch_seconds(value: Any) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(value.timestamp())
    return int(float(value))


def lambda_record(record: Mapping[str, Any], stream_arn: str, region: str) -> Dict[str, Any]:
    """One ``GetRecords`` record as a Lambda DynamoDB-stream event record."""
    ddb = record["dynamodb"]
    out_ddb: Dict[str, Any] = {}
    if "ApproximateCreationDateTime" in ddb:
        out_ddb["ApproximateCreationDateTime"] = _epoch_seconds(ddb["ApproximateCreationDateTime"])
    for name in ("Keys", "NewImage", "OldImage"):
        if name in ddb:
            out_ddb[name] = {k: _attribute(v) for k, v in ddb[name].items()}
    out_ddb["SequenceNumber"] = ddb["SequenceNumber"]
    if "SizeBytes" in ddb:
        out_ddb["SizeBytes"] = int(ddb["SizeBytes"])
    if "StreamViewType" in ddb:
        out_ddb["StreamViewType"] = ddb["StreamViewType"]
    out: Dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion") or region,
        "dynamodb": out_ddb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # TTL deletions carry the service principal
        out["userIdentity"] = dict(record["userIdentity"])
    return out


def lambda_event(
    records: Sequence[Mapping[str, Any]], stream_arn: str, region: str
) -> Dict[str, Any]:
    """The event Lambda sends for one batch, round-tripped through JSON like the real one."""
    event: Dict[str, Any] = json.loads(
        json.dumps({"Records": [lambda_record(r, stream_arn, region) for r in records]})
    )
    return event
