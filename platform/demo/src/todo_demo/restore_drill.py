"""The restore drill: the recovery procedure for the table (``platform/pulumi/
README.md``, "Disaster recovery", procedure B) on the local stack, verified.

    python3 noxfile.py -s restore-drill

1. the local stack: emulator, API, and both readers of the table's stream
   (the CDC function into bronze, the KPI aggregator);
2. traffic on the table: users sign up and create and update tasks; two more
   users' profiles were last seen an hour ago (written with an old clock), so
   their first request later rewrites their profile (version 2);
3. a backup of the table;
4. more traffic on the old table after the backup: updates, a create, a
   delete, one of the two users' first request;
5. **the recovery, timed**: stop the API, let both stream readers drain,
   restore the backup into a new table, replay the old table's stream onto
   it (:func:`todo_local.restore.roll_forward`, before it has a stream of
   its own), enable its stream, start the API and both readers on it;
6. traffic on the new table: updates of tasks from both earlier phases
   (their versions go on; the new stream's sequence numbers are all lower
   than the old one's), a create, deletes, the other user's first request;
7. read what the API holds; drain, silver, gold;
8. verify the lake against it: silver's tasks and
   users are the API's, every change accepted in steps 2, 4 and 6 is in
   silver's ``task_events`` exactly once, gold's KPIs and per-user counts
   are the API's, and so are the KPI aggregator's counters.

It prints the recovery time (step 5: writes stopped until the API answers
on the new table) and the time until the lake agrees again.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from todo_core.cursor import CursorCodec
from todo_core.profile_repository import ProfileRepository
from todo_core.repository import TodoRepository
from todo_demo import lake_state
from todo_demo.driver import DemoFailed, _header, _request
from todo_demo.pipeline import (
    add_etl_python_option,
    read_counters,
    require_etl_python,
    run_etl,
)
from todo_local import restore
from todo_local.cognito import stack_user_tokens
from todo_local.devstack import DevStack
from todo_local.emulator import client_environment
from todo_local.stack import glue_job_arguments

RESTORED_SUFFIX = "-restored"
#: How long the stale users were last seen before the drill (over the API's
#: 5-minute resolution, so their first request rewrites the profile).
STALE_BY = dt.timedelta(hours=1)

#: (user id, task id, version, event name): one accepted change of a task.
Change = Tuple[str, str, int, str]


@dataclass
class Ledger:
    """What the API accepted during the drill: the truth the lake must match."""

    changes: List[Change] = field(default_factory=list)
    #: The ETag of every task's last accepted write, by (user id, task id).
    etags: Dict[Tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    token: str


@dataclass(frozen=True)
class DrillResult:
    recovery_seconds: float
    lake_seconds: float
    rolled_forward: restore.RollForward
    failures: List[str]


def _subject(id_token: str) -> str:
    payload = id_token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def _caller(stack: Any, email: str) -> Caller:
    tokens = stack_user_tokens(stack, email, given_name="Drill", family_name=email.split("@")[0])
    return Caller(_subject(tokens.id_token), email, tokens.id_token)


def _check(code: int, what: str, body: Any) -> None:
    if code >= 300:
        raise DemoFailed(f"{what}: HTTP {code} {body}")


class Traffic:
    """Creates, updates and deletes through the API, recorded in a ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.api = ""

    def create(self, who: Caller, title: str) -> str:
        code, task, headers = _request(
            "POST",
            f"{self.api}/api/v1/tasks",
            who.token,
            {"title": title, "category": "drill"},
            {"Idempotency-Key": uuid.uuid4().hex},
        )
        _check(code, f"create {title}", task)
        self.ledger.changes.append((who.user_id, task["task_id"], task["version"], "INSERT"))
        self.ledger.etags[(who.user_id, task["task_id"])] = _header(headers, "ETag")
        return str(task["task_id"])

    def update(self, who: Caller, task_id: str, change: Dict[str, Any]) -> None:
        etag = self.ledger.etags[(who.user_id, task_id)]
        code, task, headers = _request(
            "PATCH", f"{self.api}/api/v1/tasks/{task_id}", who.token, change, {"If-Match": etag}
        )
        _check(code, f"update {task_id}", task)
        self.ledger.changes.append((who.user_id, task_id, task["version"], "MODIFY"))
        self.ledger.etags[(who.user_id, task_id)] = _header(headers, "ETag")

    def delete(self, who: Caller, task_id: str) -> None:
        etag = self.ledger.etags.pop((who.user_id, task_id))
        code, body, _ = _request(
            "DELETE", f"{self.api}/api/v1/tasks/{task_id}", who.token, None, {"If-Match": etag}
        )
        _check(code, f"delete {task_id}", body)
        self.ledger.changes.append((who.user_id, task_id, int(etag.strip('W/"')), "REMOVE"))

    def visit(self, who: Caller) -> None:
        """A request that only reads (and refreshes the caller's profile if stale)."""
        code, body, _ = _request("GET", f"{self.api}/api/v1/users/me", who.token)
        _check(code, f"profile of {who.email}", body)


def _api_holdings(api: str, callers: List[Caller]) -> Dict[str, Any]:
    """Every caller's tasks and profile, as the API answers them now."""
    tasks: Dict[Tuple[str, str], Tuple[int, str, str]] = {}
    profiles: Dict[str, Dict[str, Any]] = {}
    for who in callers:
        cursor: Optional[str] = None
        while True:
            url = f"{api}/api/v1/tasks?limit=100" + (f"&cursor={cursor}" if cursor else "")
            code, page, _ = _request("GET", url, who.token)
            _check(code, f"list of {who.email}", page)
            for task in page["items"]:
                tasks[(who.user_id, task["task_id"])] = (
                    task["version"],
                    task["status"],
                    task["title"],
                )
            cursor = page.get("next_cursor")
            if not cursor:
                break
        code, profile, _ = _request("GET", f"{api}/api/v1/users/me", who.token)
        _check(code, f"profile of {who.email}", profile)
        profiles[who.user_id] = profile
    return {"tasks": tasks, "profiles": profiles}


def _instant(value: Any) -> dt.datetime:
    """An API timestamp ("...Z") or a silver one (naive UTC text) as an aware datetime."""
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _latest(rows: List[Dict[str, Any]], key: Tuple[str, ...]) -> Dict[Tuple[Any, ...], Any]:
    """Per key, the rows silver holds (a clean run leaves exactly one)."""
    out: Dict[Tuple[Any, ...], List[Dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(tuple(row[k] for k in key), []).append(row)
    return out


def compare(
    held: Dict[str, Any],
    versions: Dict[str, int],
    lake: Dict[str, Any],
    ledger: Ledger,
    counters: Dict[str, int],
) -> List[str]:
    """Every way the lake (and the KPI counters) differ from what the API holds."""
    failures: List[str] = []

    def check(what: str, got: Any, want: Any) -> None:
        ok = got == want
        print(f"  {'ok ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            failures.append(f"{what}: got {got!r}, expected {want!r}")

    silver = lake["silver"]
    tasks = _latest(silver["tasks"], ("user_id", "task_id"))
    check("silver tasks: one row per task", [k for k, v in tasks.items() if len(v) != 1], [])
    live = {
        k: (rows[0]["version"], rows[0]["status"], rows[0]["title"])
        for k, rows in tasks.items()
        if not rows[0]["is_deleted"]
    }
    check("silver tasks (live) equal the API's tasks", live, held["tasks"])

    users = _latest(silver["users"], ("user_id",))
    got_users = {
        k[0]: (rows[0]["version"], rows[0]["email"], _instant(rows[0]["last_seen_at"]))
        for k, rows in users.items()
        if len(rows) == 1 and not rows[0]["is_deleted"]
    }
    want_users = {
        user_id: (versions[user_id], p["email"], _instant(p["last_seen_at"]))
        for user_id, p in held["profiles"].items()
    }
    check(
        "silver users equal the API's profiles (version, e-mail, last seen)", got_users, want_users
    )

    events = Counter(
        (e["user_id"], e["task_id"], e["version"], e["event_name"]) for e in silver["task_events"]
    )
    accepted = Counter(ledger.changes)
    check("silver task_events: no accepted change lost", sorted(accepted - events), [])
    check("silver task_events: no change counted twice or invented", sorted(events - accepted), [])

    gold = lake["gold"]
    kpi = gold["kpi"] or {}
    completed = sum(1 for _, status, _ in held["tasks"].values() if status == "completed")
    check(
        "gold kpi_snapshot totals equal the API's",
        (kpi.get("total_users"), kpi.get("total_tasks"), kpi.get("completed_tasks")),
        (len(held["profiles"]), len(held["tasks"]), completed),
    )
    per_user: Dict[str, Dict[str, int]] = {
        u: {"total_events": 0, "tasks_created": 0, "current_tasks": 0, "tasks_completed": 0}
        for u in held["profiles"]
    }
    for user_id, _, _, event_name in ledger.changes:
        per_user[user_id]["total_events"] += 1
        per_user[user_id]["tasks_created"] += event_name == "INSERT"
    for (user_id, _), (_, status, _) in held["tasks"].items():
        per_user[user_id]["current_tasks"] += 1
        per_user[user_id]["tasks_completed"] += status == "completed"
    got_gold = {
        row["user_id"]: {k: row[k] for k in per_user[row["user_id"]]}
        for row in gold["user_analytics"]
        if row["user_id"] in per_user
    }
    check("gold user_analytics per user equals the API's", got_gold, per_user)
    check(
        "KPI aggregator counters on the new table equal the API's",
        (counters["total_users"], counters["total_tasks"], counters["completed_tasks"]),
        (len(held["profiles"]), len(held["tasks"]), completed),
    )
    return failures


def _read_lake(etl_python: str, stack: Any) -> Dict[str, Any]:
    names = stack.names
    result = subprocess.run(
        [
            etl_python,
            lake_state.__file__,
            names.silver_bucket,
            names.gold_bucket,
            names.glue_database,
        ],
        env={**os.environ, **client_environment(stack.endpoint_url)},
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(result.stdout))


def _run_jobs(etl_python: str, stack: Any) -> None:
    env = client_environment(stack.endpoint_url)
    run_etl(etl_python, ["-m", "todo_silver.job", *glue_job_arguments(stack.names)], env, "silver")
    as_of = dt.datetime.now(dt.timezone.utc).isoformat()
    run_etl(
        etl_python,
        ["-m", "todo_gold.job", *glue_job_arguments(stack.names, AS_OF=as_of)],
        env,
        "gold",
    )


def _readers(dev: DevStack) -> List[Any]:
    readers = [c for c in dev.components if hasattr(c, "drain")]
    if len(readers) < 2:
        raise DemoFailed("the drill needs both stream readers (CDC and KPI aggregator) installed")
    return readers


def _profile_versions(stack: Any, user_ids: List[str]) -> Dict[str, int]:
    repo = TodoRepository(stack.client("dynamodb"), stack.names.table, CursorCodec(os.urandom(32)))
    return {user_id: repo.get_user(user_id).version for user_id in user_ids}


def recover(
    dev: DevStack, backup_arn: str, drain_timeout: float
) -> Tuple[float, restore.RollForward, Any]:
    """Step 5; returns (its seconds, what was replayed, the stage on the new table)."""
    old = dev.stack
    assert old is not None
    target = old.names.table + RESTORED_SUFFIX
    ddb, streams = old.client("dynamodb"), old.client("dynamodbstreams")
    started = time.monotonic()
    dev.stop_compute(drain_timeout=drain_timeout)  # writes stop; both readers drain
    drained = time.monotonic()
    table_arn = restore.restore_from_backup(ddb, backup_arn, target)
    replayed = restore.roll_forward(ddb, streams, old.stream_arn, target)
    stream_arn = restore.enable_stream(ddb, target)
    new = restore.stack_on_table(old, target, table_arn, stream_arn)
    restored = time.monotonic()
    dev.move_to(new)  # returns once the API answers on the new table
    done = time.monotonic()
    print(
        f"  stop and drain {drained - started:.1f}s, restore and roll forward "
        f"{restored - drained:.1f}s, API and readers on the new table {done - restored:.1f}s",
        flush=True,
    )
    return done - started, replayed, new


def run_drill(
    etl_python: str, log_dir: str = ".local", drain_timeout: float = 120.0
) -> DrillResult:
    ledger = Ledger()
    traffic = Traffic(ledger)
    with DevStack(log_dir=log_dir, outputs_path=None) as dev:
        _readers(dev)
        stack = dev.stack
        assert stack is not None
        traffic.api = stack.outputs()["ApiEndpoint"]
        print(f"[1/8] local stack up: API {traffic.api}, table {stack.names.table}", flush=True)

        print("[2/8] traffic on the table", flush=True)
        ann, bob = _caller(stack, "ann@example.com"), _caller(stack, "bob@example.com")
        cat, dan = _caller(stack, "cat@example.com"), _caller(stack, "dan@example.com")
        last_hour = dt.datetime.now(dt.timezone.utc) - STALE_BY
        profiles = ProfileRepository(stack.client("dynamodb"), stack.names.table, lambda: last_hour)
        for stale in (cat, dan):
            profiles.record_user_seen(stale.user_id, stale.email, "Drill", "stale")
        tasks: Dict[str, List[str]] = {}
        for who in (ann, bob):
            tasks[who.user_id] = [traffic.create(who, f"{who.email} {n}") for n in range(3)]
            for task_id in tasks[who.user_id]:
                traffic.update(who, task_id, {"status": "in_progress"})

        print("[3/8] backup", flush=True)
        backup_arn = restore.back_up(stack.client("dynamodb"), stack.names.table, "restore-drill")

        print("[4/8] traffic on the old table after the backup", flush=True)
        for who in (ann, bob):
            first, second, _ = tasks[who.user_id]
            traffic.update(who, first, {"status": "completed"})
            traffic.delete(who, second)
            tasks[who.user_id].append(traffic.create(who, f"{who.email} after the backup"))
        traffic.visit(cat)  # profile version 2, on the old stream

        print("[5/8] recovery: stop writes, drain, restore, roll forward, move", flush=True)
        recovery_seconds, replayed, new = recover(dev, backup_arn, drain_timeout)
        traffic.api = new.outputs()["ApiEndpoint"]
        print(
            f"  restored into {new.names.table}; replayed {replayed.records} stream records "
            f"({replayed.puts} puts, {replayed.deletes} deletes); API {traffic.api}",
            flush=True,
        )

        print("[6/8] traffic on the new table", flush=True)
        for who in (ann, bob):
            first, _, third, fourth = tasks[who.user_id]
            traffic.update(who, first, {"title": f"{who.email} edited after the restore"})
            traffic.update(who, fourth, {"status": "completed"})
            traffic.delete(who, third)
            traffic.create(who, f"{who.email} on the new table")
        traffic.visit(dan)  # profile version 2, on the new stream (lower numbers)
        traffic.create(dan, "dan's first task")

        print("[7/8] what the API holds; drain, silver, gold", flush=True)
        # Read first: a read may refresh a stale profile, which the lake must then see too.
        callers = [ann, bob, cat, dan]
        held = _api_holdings(traffic.api, callers)
        versions = _profile_versions(new, [c.user_id for c in callers])
        lake_started = time.monotonic()
        for reader in _readers(dev):
            reader.drain(timeout=drain_timeout)
        time.sleep(1.5)  # the API's log forwarder flushes every second
        _run_jobs(etl_python, new)
        lake = _read_lake(etl_python, new)
        lake_seconds = time.monotonic() - lake_started

        print("[8/8] verify: the lake against what the API holds", flush=True)
        failures = compare(held, versions, lake, ledger, read_counters(new))
    return DrillResult(recovery_seconds, lake_seconds, replayed, failures)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_demo.restore_drill",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_etl_python_option(parser)
    parser.add_argument("--log-dir", default=".local")
    args = parser.parse_args(argv)
    require_etl_python(parser, args.etl_python, "restore-drill")
    try:
        result = run_drill(args.etl_python, args.log_dir)
    except DemoFailed as exc:
        print(f"restore drill FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    print(
        f"recovery time: {result.recovery_seconds:.1f}s (writes stopped -> API serving on the "
        f"restored table); lake consistent {result.lake_seconds:.1f}s later "
        "(drain, silver, gold)",
        flush=True,
    )
    if result.failures:
        print("restore drill FAILED: " + "; ".join(result.failures), flush=True)
        return 1
    print("restore drill OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
