"""What one API write costs DynamoDB: items written and write capacity units.

    python benchmarks/write_cost.py [--json]

Runs each kind of API write through the repository against the local
emulator and records, with a botocore hook on the client (nothing patched:
every request still goes to the emulator), the items each request writes.
Write capacity follows DynamoDB's published rules, applied to the items as
sent: a standard write costs 1 WCU per started KiB of the item, a
transactional write 2 per started KiB (every item here is under 1 KiB). Item
sizes follow DynamoDB's sizing: attribute names plus values (UTF-8 text,
numbers about one byte per two digits plus one).

The same script measured the write path before the KPIs moved to the stream
(three-item transactions); those figures are kept in ``BEFORE`` and printed
beside the live ones.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import uuid
from typing import Any, Dict, List, Optional

from todo_core.cursor import CursorCodec
from todo_core.models import Task
from todo_core.ports import CreateClaim
from todo_core.repository import TodoRepository

#: Measured by this script on the write path before the stream-kept KPIs
#: (task + KPI counter shard + activity marker in one transaction).
BEFORE: Dict[str, Dict[str, float]] = {
    "create task": {"requests": 1, "items": 4, "wcu": 8},
    "create task with an Idempotency-Key claim": {"requests": 1, "items": 5, "wcu": 10},
    "update task (status change)": {"requests": 1, "items": 3, "wcu": 6},
    "update task (title only)": {"requests": 1, "items": 2, "wcu": 4},
    "delete task": {"requests": 1, "items": 4, "wcu": 8},
    "first sight of a user (profile)": {"requests": 2, "items": 3, "wcu": 5},
}


def _value_size(value: Dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return math.ceil(len(str(inner).lstrip("-").replace(".", "")) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    return len(json.dumps(inner))


def item_size(item: Dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + _value_size(v) for name, v in item.items())


def _wcu(item: Optional[Dict[str, Any]], transactional: bool) -> int:
    # An update's or delete's size is that of the item it writes; the items
    # here (a task, a count, a counter, a marker) are all well under 1 KiB.
    size = item_size(item) if item else 1
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


class WriteLog:
    """Items and WCU of every write request a client sends (a botocore hook)."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.items = 0
        self.wcu = 0
        client.meta.events.register("provide-client-params.dynamodb.*", self._record)

    def reset(self) -> None:
        self.requests = self.items = self.wcu = 0

    def _record(self, params: Dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "TransactWriteItems":
            self.requests += 1
            for action in params["TransactItems"]:
                ((_, body),) = action.items()
                self.items += 1
                self.wcu += _wcu(body.get("Item"), transactional=True)
        elif name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.requests += 1
            self.items += 1
            self.wcu += _wcu(params.get("Item"), transactional=False)
        elif name == "BatchWriteItem":
            self.requests += 1
            for writes in params["RequestItems"].values():
                for write in writes:
                    self.items += 1
                    self.wcu += _wcu(write.get("PutRequest", {}).get("Item"), False)


def measure(client: Any, table: str, rounds: int = 5) -> Dict[str, Dict[str, float]]:
    """Median requests, items and WCU per kind of write, over ``rounds`` users."""
    repo = TodoRepository(client, table, CursorCodec(b"w" * 32))
    log = WriteLog(client)
    samples: Dict[str, List[Dict[str, float]]] = {}

    def sample(what: str, write: Any) -> Any:
        log.reset()
        result = write()
        samples.setdefault(what, []).append(
            {"requests": log.requests, "items": log.items, "wcu": log.wcu}
        )
        return result

    for n in range(rounds):
        _one_user(repo, sample, n)
    return {
        what: {k: statistics.median(s[k] for s in runs) for k in ("requests", "items", "wcu")}
        for what, runs in samples.items()
    }


def _one_user(repo: TodoRepository, sample: Any, n: int) -> None:
    """Every kind of API write, once, by a new user."""
    user = f"write-cost-{uuid.uuid4()}"
    sample("first sight of a user (profile)", lambda: repo.record_user_seen(user))
    task = sample("create task", lambda: repo.create_task(Task.new(user, {"title": f"t{n}"})))
    claim = CreateClaim(request_id=f"{user}#r{n}", fingerprint="f", expires_at=2**31)
    sample(
        "create task with an Idempotency-Key claim",
        lambda: repo.create_task(Task.new(user, {"title": "claimed"}), claim),
    )
    sample(
        "update task (status change)",
        lambda: repo.update_task(user, task.task_id, {"status": "completed"}),
    )
    sample(
        "update task (title only)",
        lambda: repo.update_task(user, task.task_id, {"title": "renamed"}),
    )
    sample("delete task", lambda: repo.delete_task(user, task.task_id))


def render(after: Dict[str, Dict[str, float]]) -> str:
    lines = [
        "## Write cost per API write (items and WCU)",
        "",
        "Medians over 5 users, from the requests the repository sent (a botocore",
        "hook on the client) and DynamoDB's capacity rules (see",
        "`benchmarks/write_cost.py`). *Before*: every task write was one transaction",
        "with a KPI counter shard and the writer's activity marker. *After*: the",
        "KPIs are kept from the stream by the KPI aggregator; a write touches only",
        "the user's own items.",
        "",
        "| API write | Before: items / WCU | After: items / WCU | WCU ratio (after / before) |",
        "|---|---|---|---|",
    ]
    for what, now in after.items():
        was = BEFORE.get(what)
        before = f"{was['items']:g} / {was['wcu']:g}" if was else "n/a"
        ratio = f"{now['wcu'] / was['wcu']:.2f}x" if was else "n/a"
        lines.append(f"| {what} | {before} | {now['items']:g} / {now['wcu']:g} | {ratio} |")
    lines += [
        "",
        "Requests per write are unchanged (a first sight is a conditional update that",
        "fails, then the create). The aggregator's own writes (per stream batch, not",
        "per API write) are in `shared/todo_core/README.md`,",
        '"Capacity and cost".',
        "",
    ]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    from todo_local.emulator import Emulator
    from todo_local.stack import provision

    with Emulator() as emulator:
        stack = provision(emulator.endpoint_url)
        after = measure(stack.client("dynamodb"), stack.names.table)
    if argv and "--json" in argv:
        print(json.dumps(after, indent=1))
    else:
        print(render(after))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
