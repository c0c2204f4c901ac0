"""Benchmark: what the repository adds to the DynamoDB calls it makes, and
what importing todo_core costs a cold Lambda.

    python benchmarks/run.py --out benchmarks/RESULTS.md [--quick]

1. Repository operations against the local emulator (moto server over HTTP on
   127.0.0.1), each interleaved in the same run with a baseline: the raw boto3
   call(s) the operation makes, with the request built by hand, so the ratio
   is the repository's own overhead (models, validation, item conversion,
   cursor signing) on top of an identical round trip:

   - create: ``create_task`` vs the same ``TransactWriteItems`` (task Put with
     its condition, the user's task count) built by hand;
   - get: ``get_task`` vs ``GetItem`` of the same key;
   - update: ``update_task`` (consistent read, then a conditional
     ``PutItem``) vs the same ``GetItem`` + ``PutItem`` by hand;
   - list with a filter: ``list_tasks(status=pending, limit=20)`` vs one
     ``Query`` on the status index with ``Limit=21``;
   - list page 2: the same with the signed cursor of page 1 vs ``Query`` with
     the ``ExclusiveStartKey`` of page 1.

   Rounds alternate the two sides (ABBA) so that drift on a shared machine
   hits both equally. The emulator's latency (milliseconds) is of the same
   order as DynamoDB's, so the ratio is representative; the Python cost per
   call, measured separately without any network, is reported too.

2. ``import todo_core`` and each submodule the Lambdas import, each in a fresh
   interpreter (median of 15), against ``from pydantic import BaseModel`` (the
   import every pydantic user pays; plain ``import pydantic`` is lazy and
   loads nothing) in the same run; and which heavy libraries got imported
   (none of pandas, pyarrow, fastapi may be).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import write_cost

from todo_core import keys
from todo_core.attributes import to_attribute, to_item
from todo_core.cursor import CursorCodec
from todo_core.models import Task, TaskStatus
from todo_core.repository import TaskFilter, TodoRepository, task_to_item

GOAL_RATIO = 1.10
HEAVY = ("pandas", "pyarrow", "fastapi")
IMPORTS = (
    "todo_core",
    "todo_core.models",
    "todo_core.events",
    "todo_core.repository",
    "todo_core.models, todo_core.events, todo_core.repository, todo_core.naming, todo_core.lake",
)


# --- statistics -------------------------------------------------------------------


def quartiles(samples: Sequence[float]) -> Tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q1, median, q3


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def fmt_iqr_ms(samples: Sequence[float]) -> str:
    q1, _, q3 = quartiles(samples)
    return f"{q1 * 1000:.2f}-{q3 * 1000:.2f} ms"


def interleaved(
    rounds: int, subject: Callable[[int], Any], baseline: Callable[[int], Any]
) -> Tuple[List[float], List[float]]:
    """ABBA-ordered timings of ``subject`` and ``baseline`` (warm-up excluded)."""
    a: List[float] = []
    b: List[float] = []
    for i in range(-3, rounds):
        order = [(subject, a), (baseline, b)]
        if i % 2:
            order.reverse()
        for fn, out in order:
            start = time.perf_counter()
            fn(i)
            elapsed = time.perf_counter() - start
            if i >= 0:
                out.append(elapsed)
    return a, b


# --- the operations and their hand-built baselines ------------------------------------------


class Bench:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.repo = TodoRepository(client, table, CursorCodec(b"b" * 32))
        self.user = f"bench-{random.getrandbits(48):x}"
        self.rows: List[Dict[str, Any]] = []

    # raw requests, built by hand as an application without the repository would

    def raw_create_request(self, task: Task) -> Dict[str, Any]:
        now = task.updated_at
        item = task_to_item(task)
        return {
            "TransactItems": [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": to_item(keys.task_count_key(task.user_id)),
                        "UpdateExpression": "ADD #n :d SET #w = :w",
                        "ConditionExpression": "attribute_not_exists(#n) OR #n < :quota",
                        "ExpressionAttributeNames": {
                            "#n": "task_count",
                            "#w": keys.LAST_WRITE_ATTRIBUTE,
                        },
                        "ExpressionAttributeValues": {
                            ":d": {"N": "1"},
                            ":w": {"S": now.isoformat()},
                            ":quota": {"N": "1000000"},
                        },
                    }
                },
            ]
        }

    def run(self, rounds: int) -> None:
        client, table, repo, user = self.client, self.table, self.repo, self.user

        # create ---------------------------------------------------------------
        # The baseline's item is prepared outside the timed call: it stands for
        # the request an application would send, built however it likes.
        pending_raw: List[Dict[str, Any]] = []

        def prepare_raw(i: int) -> None:
            task = Task.new(user, {"title": f"raw {i}", "category": "bench", "status": "pending"})
            pending_raw.append(self.raw_create_request(task))

        def create(i: int) -> None:
            repo.create_task(
                Task.new(user, {"title": f"task {i}", "category": "bench", "status": "pending"})
            )

        def raw_create(i: int) -> None:
            client.transact_write_items(**pending_raw.pop())

        # Prebuild all raw requests so building them is not timed.
        for i in range(-3, rounds):
            prepare_raw(i)
        a, b = interleaved(rounds, create, raw_create)
        self.add("create task", a, b, "TransactWriteItems (task + task count) built by hand")

        # get ------------------------------------------------------------------
        sample = repo.list_tasks(user, limit=50).items
        ids = [t.task_id for t in sample]
        raw_keys = [to_item(keys.task_key(user, t)) for t in ids]
        a, b = interleaved(
            rounds * 2,
            lambda i: repo.get_task(user, ids[i % len(ids)]),
            lambda i: client.get_item(TableName=table, Key=raw_keys[i % len(ids)]),
        )
        self.add("get task", a, b, "GetItem of the same key")

        # update ---------------------------------------------------------------
        target = repo.create_task(Task.new(user, {"title": "updated", "category": "bench"}))
        raw_target = repo.create_task(Task.new(user, {"title": "raw", "category": "bench"}))
        raw_key = to_item(keys.task_key(user, raw_target.task_id))

        def update(i: int) -> None:
            repo.update_task(user, target.task_id, {"title": f"update {i}"})

        def raw_update(i: int) -> None:
            current = client.get_item(TableName=table, Key=raw_key, ConsistentRead=True)["Item"]
            version = int(current["version"]["N"])
            item = dict(current)
            item["title"] = {"S": f"update {i}"}
            item["version"] = {"N": str(version + 1)}
            item["updated_at"] = {"S": dt.datetime.now(dt.timezone.utc).isoformat()}
            client.put_item(
                TableName=table,
                Item=item,
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": to_attribute(version)},
            )

        a, b = interleaved(rounds, update, raw_update)
        self.add("update task", a, b, "GetItem (consistent) + conditional PutItem by hand")

        # list with a filter, page 1 and page 2 ------------------------------------
        pending = TaskFilter(status=TaskStatus.PENDING)
        query: Dict[str, Any] = {
            "TableName": table,
            "IndexName": keys.BY_STATUS.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": keys.BY_STATUS.pk},
            "ExpressionAttributeValues": {":pk": {"S": keys.status_partition(user, "pending")}},
            "Limit": 21,
        }
        a, b = interleaved(
            rounds,
            lambda i: repo.list_tasks(user, pending, limit=20),
            lambda i: client.query(**query),
        )
        self.add(
            "list tasks, status filter, 20 per page",
            a,
            b,
            "one Query on the status index, Limit 21",
        )

        first = repo.list_tasks(user, pending, limit=20)
        start_key = client.query(**{**query, "Limit": 20})["LastEvaluatedKey"]
        a, b = interleaved(
            rounds,
            lambda i: repo.list_tasks(user, pending, limit=20, cursor=first.next_cursor),
            lambda i: client.query(**query, ExclusiveStartKey=start_key),
        )
        self.add(
            "list tasks, page 2 (signed cursor)", a, b, "the same Query with ExclusiveStartKey"
        )

    def add(self, what: str, subject: List[float], baseline: List[float], how: str) -> None:
        ratio = statistics.median(subject) / statistics.median(baseline)
        self.rows.append(
            {
                "what": what,
                "median": fmt_ms(statistics.median(subject)),
                "spread": fmt_iqr_ms(subject),
                "baseline": f"{how}: {fmt_ms(statistics.median(baseline))}",
                "ratio": f"{ratio:.2f}x",
                "goal": f"<= {GOAL_RATIO:.1f}x",
                "met": "yes" if ratio <= GOAL_RATIO else "no",
                "n": len(subject),
            }
        )


# --- the Python work per call, without any network ------------------------------------------


class StubClient:
    """Answers like DynamoDB, instantly: isolates the repository's own work."""

    def __init__(self, item: Dict[str, Any], page: List[Dict[str, Any]]) -> None:
        self._item = item
        self._page = page

    def transact_write_items(self, **_: Any) -> Dict[str, Any]:
        return {}

    def put_item(self, **_: Any) -> Dict[str, Any]:
        return {}

    def get_item(self, **_: Any) -> Dict[str, Any]:
        return {"Item": self._item}

    def query(self, **kwargs: Any) -> Dict[str, Any]:
        limit = kwargs.get("Limit", 21)
        return {"Items": self._page[:limit], "LastEvaluatedKey": None}


def python_cost(rounds: int) -> List[Tuple[str, float]]:
    task = Task.new("u", {"title": "t", "category": "bench", "due_date": dt.date(2030, 1, 1)})
    page = [task_to_item(Task.new("u", {"title": f"t{i}"})) for i in range(21)]
    repo = TodoRepository(StubClient(task_to_item(task), page), "t", CursorCodec(b"b" * 32))
    ops: List[Tuple[str, Callable[[], Any]]] = [
        ("create task", lambda: repo.create_task(Task.new("u", {"title": "t"}))),
        ("get task", lambda: repo.get_task("u", task.task_id)),
        ("update task", lambda: repo.update_task("u", task.task_id, {"title": "x"})),
        ("list tasks, 20 per page", lambda: repo.list_tasks("u", limit=20)),
    ]
    out = []
    for name, op in ops:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            op()
            samples.append(time.perf_counter() - start)
        out.append((name, statistics.median(samples)))
    return out


# --- import time ------------------------------------------------------------------------------


BASELINE_IMPORT = "from pydantic import BaseModel"
IMPORT_PROBE = """
import sys, time, json
start = time.perf_counter()
{modules}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def import_time(modules: str, runs: int) -> Tuple[List[float], List[str]]:
    samples: List[float] = []
    heavy: List[str] = []
    statement = modules if modules.startswith("from ") else f"import {modules}"
    code = IMPORT_PROBE.format(modules=statement, heavy=HEAVY)
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        result = json.loads(out)
        samples.append(result["seconds"])
        heavy = sorted(set(heavy) | set(result["heavy"]))
    return samples, heavy


def import_rows(runs: int) -> List[Dict[str, Any]]:
    rows = []
    # Alternate the baseline with each subject so both see the same machine.
    for modules in IMPORTS:
        subject: List[float] = []
        baseline: List[float] = []
        heavy: List[str] = []
        for _ in range(runs):
            s, h = import_time(modules, 1)
            b, _ = import_time(BASELINE_IMPORT, 1)
            subject += s
            baseline += b
            heavy = sorted(set(heavy) | set(h))
        ratio = statistics.median(subject) / statistics.median(baseline)
        rows.append(
            {
                "what": f"`import {modules}` (fresh interpreter)",
                "median": fmt_ms(statistics.median(subject)),
                "spread": fmt_iqr_ms(subject),
                "baseline": f"`{BASELINE_IMPORT}`: {fmt_ms(statistics.median(baseline))}",
                "ratio": f"{ratio:.2f}x",
                "goal": "imports none of " + ", ".join(HEAVY),
                "met": "yes" if not heavy else "no: " + ", ".join(heavy),
                "n": len(subject),
            }
        )
    return rows


# --- report -----------------------------------------------------------------------------------


def machine() -> str:
    import moto

    processor = platform.processor() or platform.machine()
    return (
        f"Machine: {processor}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.system()}), moto {moto.__version__} server on 127.0.0.1."
    )


def render(rows: List[Dict[str, Any]], python: List[Tuple[str, float]], quick: bool) -> str:
    lines = [
        "## todo-core",
        "",
        machine() + (" Quick run (fewer rounds)." if quick else ""),
        "",
        "| What | Median | Spread (IQR) | Baseline (same run) | Ratio | Goal | Met? | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} | {r['median']} | {r['spread']} | {r['baseline']} | "
            f"{r['ratio']} | {r['goal']} | {r['met']} | {r['n']} |"
        )
    lines += [
        "",
        "Repository rows: each call against the local emulator, interleaved with its",
        "baseline, the raw boto3 call(s) it makes with the request built by hand",
        "(for create the same transaction: task write and the user's task count;",
        "for update the same conditional put). The ratio is the repository's own cost on",
        "top of identical round trips. Without any network (a stub client), the",
        "repository's Python work per call is: "
        + "; ".join(f"{name} {seconds * 1e6:.0f} µs" for name, seconds in python)
        + ".",
        "",
        "Import rows: time of the import statement alone in a fresh interpreter",
        "(interpreter start-up excluded), against `from pydantic import BaseModel`,",
        "the cost of the one heavy dependency todo_core cannot avoid (`import",
        "pydantic` alone is lazy). What todo_core adds on top is building its",
        "models' validators. The heavy-library check is also a unit test",
        "(`tests/unit/test_imports.py`).",
        "",
    ]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke test)")
    args = parser.parse_args(argv)
    rounds = 20 if args.quick else 80
    import_runs = 10 if args.quick else 15

    from todo_local.emulator import Emulator
    from todo_local.stack import provision

    with Emulator() as emulator:
        stack = provision(emulator.endpoint_url)
        bench = Bench(stack.client("dynamodb"), stack.names.table)
        print(f"repository vs raw boto3, {rounds} interleaved rounds ...", flush=True)
        bench.run(rounds)
        writes = write_cost.render(write_cost.measure(stack.client("dynamodb"), stack.names.table))
    python = python_cost(2000 if not args.quick else 200)
    print(f"import times, {import_runs} fresh interpreters each ...", flush=True)
    rows = bench.rows + import_rows(import_runs)
    report = render(rows, python, args.quick) + "\n" + writes
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
