"""Re-create the Lambda event fixtures in this folder from the local emulator.

    python tests/events/capture.py     (from services/cdc-processor)

Writes go through todo_core's repository (the API's data access layer) with
a fixed clock and fixed task ids; the stream records are read back through
the local event source mapping, so the files hold exactly the payload shape
Lambda delivers. Event ids and sequence numbers come from the emulator.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List

from todo_core import keys
from todo_core.attributes import to_item
from todo_core.cursor import CursorCodec
from todo_core.models import Task
from todo_core.repository import TodoRepository
from todo_local.emulator import Emulator
from todo_local.stack import provision
from todo_local.stream_runner import StreamRunner

HERE = Path(__file__).resolve().parent
CLOCK = dt.datetime(2025, 1, 27, 10, 30, 45, 123000, tzinfo=dt.timezone.utc)


def _write(name: str, records: List[Dict[str, Any]]) -> None:
    path = HERE / name
    path.write_text(json.dumps({"Records": records}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.name}: {len(records)} records")


def main() -> None:
    with Emulator() as emulator:
        stack = provision(emulator.endpoint_url)
        ddb = stack.client("dynamodb")
        repo = TodoRepository(ddb, stack.names.table, CursorCodec(b"c" * 32), clock=lambda: CLOCK)
        repo.record_user_seen("user-alice", "alice@example.com", "Alice", "Liddell")
        task = repo.create_task(
            Task.new(
                "user-alice",
                {
                    "title": "Write the runbook",
                    "priority": "high",
                    "category": "docs",
                    "due_date": "2025-02-01",
                    "description": "Bronze layout section",
                },
                now=CLOCK,
                task_id="01949f6b-0f3a-7c1e-9a55-3b6f1c2d4e5f",
            )
        )
        repo.update_task("user-alice", task.task_id, {"status": "in_progress"})
        repo.update_task("user-alice", task.task_id, {"status": "completed"})
        repo.delete_task("user-alice", task.task_id)
        ddb.put_item(
            TableName=stack.names.table,
            Item=to_item(
                {
                    **keys.idempotency_key("user-alice#3f2a"),
                    "status": "COMPLETED",
                    keys.TTL_ATTRIBUTE: 1737975045,
                }
            ),
        )
        # A task item holding every attribute type the codec must carry.
        ddb.put_item(
            TableName=stack.names.table,
            Item=to_item(
                {
                    **keys.task_key("user-bob", "01949f6b-0f3a-7c1e-9a55-000000000002"),
                    "task_id": "01949f6b-0f3a-7c1e-9a55-000000000002",
                    "user_id": "user-bob",
                    "title": "Types",
                    "version": 1,
                    "ratio": Decimal("0.125"),
                    "huge": Decimal("1E+125"),
                    "flag": True,
                    "nothing": None,
                    "blob": b"\x00\x01binary\xff",
                    "blobs": {b"a", b"b"},
                    "tags": {"red", "blue"},
                    "scores": {3, 1, 2},
                    "nested": {"list": [1, "two", {"three": Decimal("3.5")}], "empty": {}},
                }
            ),
        )

        captured: List[Dict[str, Any]] = []

        def capture(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
            captured.extend(event["Records"])
            return {"batchItemFailures": []}

        StreamRunner(stack.client("dynamodbstreams"), stack.stream_arn, capture).drain(30)

    domain = [r for r in captured if keys.entity_of(_keys(r)) is not None]
    bookkeeping = [r for r in captured if keys.entity_of(_keys(r)) is None]
    lifecycle = [r for r in captured if not _keys(r)["PK"].startswith("TASK#user-bob")]
    lifecycle = [r for r in lifecycle if not _keys(r)["PK"].startswith(keys.IDEMPOTENCY_PREFIX)]
    _write("task_lifecycle.json", lifecycle)
    _write("bookkeeping_only.json", bookkeeping)
    _write(
        "all_attribute_types.json",
        [r for r in domain if _keys(r)["PK"].startswith("TASK#user-bob")],
    )

    # A poison record between two good ones: an attribute type DynamoDB does not have.
    batch = copy.deepcopy(domain[:4])  # user INSERT, task INSERT, task MODIFY x2
    batch[2]["dynamodb"]["NewImage"]["title"] = {"Q": "not a DynamoDB type"}
    _write("poison_record.json", batch)


def _keys(record: Dict[str, Any]) -> Dict[str, str]:
    return {k: v["S"] for k, v in record["dynamodb"]["Keys"].items()}


if __name__ == "__main__":
    main()
