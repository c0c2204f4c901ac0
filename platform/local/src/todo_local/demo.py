"""The whole product on the local stack, end to end, verified.

    python3 noxfile.py -s demo          (NUM_USERS, TASKS_PER_USER, UPDATES_PER_TASK)

1. start the local stack (emulator, API, CDC stream runner);
2. create NUM_USERS users in the emulator's Cognito and sign them in;
3. drive the API over HTTP: TASKS_PER_USER tasks per user, UPDATES_PER_TASK
   updates per task (as the operations runbook's ETL test script does);
4. wait until the CDC stream has drained into the bronze bucket;
5. run the silver job, then the gold job, each as its own process in the ETL
   environment, as Glue would (``python -m todo_silver.job --BRONZE_BUCKET ...``);
6. run the metrics collector, if it is installed;
7. print the KPIs and insights, write ``.local/report.html``;
8. verify: gold's totals equal what the API accepted (and the API's own KPI
   counters); exit non-zero otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from todo_core.naming import METRICS_NAMESPACE
from todo_local.emulator import client_environment, environment_applied
from todo_local.stack import glue_job_arguments

STATUS_CYCLE = ("in_progress", "completed", "pending", "completed", "cancelled")
CATEGORIES = ("work", "home", "errands", "health", None)
PRIORITIES = ("low", "medium", "high", "urgent")
DEFAULT_REPORT = os.path.join(".local", "report.html")
#: Driver threads: 8 left about a third of a core idle (see the README).
DEFAULT_WORKERS = 16
#: The deployed event source mapping's MaximumBatchingWindowInSeconds
#: (platform/pulumi stack configuration, ``maximumBatchingWindowSeconds``).
CDC_BATCHING_WINDOW = 5.0


class DemoFailed(RuntimeError):
    pass


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass
class Accepted:
    """What the API said yes to: the demo's ground truth."""

    users: int = 0
    creates: int = 0
    updates: int = 0
    rejected: int = 0
    #: Final status of every task, by (user email, task id).
    status: Dict[Tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def completed(self) -> int:
        return sum(1 for s in self.status.values() if s == "completed")


class Progress:
    """A one-line progress counter for long steps."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(1, total), 0
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._last = 0.0

    def step(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self._last >= 1.0 or self.done >= self.total:
                self._last = now
                rate = self.done / max(1e-9, now - self.started)
                print(
                    f"  {self.label}: {self.done:,}/{self.total:,} "
                    f"({100 * self.done / self.total:.0f}%, "
                    f"{rate:,.0f}/s)",
                    flush=True,
                )


_connections = threading.local()
#: Requests a driver thread sends on one connection before it opens another.
REQUESTS_PER_CONNECTION = 50


def _connection(url: str) -> Tuple[http.client.HTTPConnection, str]:
    """This thread's keep-alive connection to ``url``'s host, and the request path.

    One connection per worker thread: a new TCP connection (and a new
    server-side handler) per call costs the API more than the call itself.
    """
    parts = urllib.parse.urlsplit(url)
    key = (parts.hostname, parts.port)
    pool = getattr(_connections, "pool", None)
    if pool is None:
        pool = _connections.pool = {}
    conn = pool.get(key)
    uses = getattr(_connections, "uses", 0) + 1
    if conn is not None and uses > REQUESTS_PER_CONNECTION:
        # Reconnect now and then: the API's worker processes share one
        # listening socket, and a connection stays with the worker that
        # accepted it; fresh connections go to whichever is free.
        conn.close()
        conn, uses = None, 1
    _connections.uses = uses
    if conn is None:
        conn = pool[key] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return conn, path


def _drop_connection(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    conn = getattr(_connections, "pool", {}).pop((parts.hostname, parts.port), None)
    if conn is not None:
        conn.close()


def _request(
    method: str,
    url: str,
    token: str,
    body: Optional[Dict[str, Any]] = None,
    headers: Optional[Dict[str, str]] = None,
    attempts: int = 5,
) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    all_headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    for attempt in range(attempts):
        try:
            conn, path = _connection(url)
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
            response_headers = dict(response.getheaders())
            if response.will_close:
                _drop_connection(url)
        except (OSError, http.client.HTTPException):
            # A dropped keep-alive connection, or the API is busy: reconnect
            # and retry (same Idempotency-Key or If-Match: a retry cannot
            # apply twice).
            _drop_connection(url)
            if attempt + 1 == attempts:
                raise
            time.sleep(0.5 * attempt)
            continue
        status = response.status
        if status in (429, 503) and attempt + 1 < attempts:
            time.sleep(float(response_headers.get("Retry-After") or 0.5))
            continue  # same Idempotency-Key or If-Match: a retry cannot apply twice
        try:
            return status, (json.loads(payload) if payload else {}), response_headers
        except ValueError:
            return status, {"detail": payload.decode(errors="replace")}, response_headers
    raise DemoFailed(f"{method} {url}: no answer")


def _header(headers: Dict[str, str], name: str) -> str:
    """A response header by case-insensitive name ('' when absent)."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def _confirm_applied(
    url: str, token: str, change: Dict[str, Any], etag: str
) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    """After a 412: 200 if the task is one version past ``etag`` and shows ``change``.

    Each task is changed by one driver thread only, so the only way its
    version moved is an earlier attempt of this very update.
    """
    code, task, headers = _request("GET", url, token)
    expected_version = int(etag.strip('W/"') or 0) + 1
    applied = (
        code == 200
        and task.get("version") == expected_version
        and all(task.get(field) == value for field, value in change.items())
    )
    return (200 if applied else 412), task, headers


def drive_api(
    api: str,
    tokens: Dict[str, str],
    tasks_per_user: int,
    updates_per_task: int,
    workers: int,
    accepted: Accepted,
) -> None:
    """Each (user, task) is one job: create it, then update it in order."""
    total = len(tokens) * tasks_per_user * (1 + updates_per_task)
    progress = Progress("API calls", total)

    def one_task(email: str, index: int) -> None:
        token = tokens[email]
        body = {
            "title": f"Task {index + 1} of {email}",
            "priority": PRIORITIES[index % len(PRIORITIES)],
            "description": "created by the demo",
        }
        category = CATEGORIES[index % len(CATEGORIES)]
        if category:
            body["category"] = category
        # A create is retried under the same Idempotency-Key, so it applies once.
        code, task, headers = _request(
            "POST", f"{api}/api/v1/tasks", token, body, {"Idempotency-Key": uuid.uuid4().hex}
        )
        progress.step()
        if code != 201:
            with accepted.lock:
                accepted.rejected += 1 + updates_per_task
            progress.step(updates_per_task)
            return
        task_id, status = task["task_id"], task.get("status", "pending")
        with accepted.lock:
            accepted.creates += 1
            accepted.status[(email, task_id)] = status
        etag = _header(headers, "ETag")
        for k in range(updates_per_task):
            change: Dict[str, Any] = {"status": STATUS_CYCLE[(index + k) % len(STATUS_CYCLE)]}
            if k % 2:
                change["title"] = f"Task {index + 1} of {email} (edit {k + 1})"
            url = f"{api}/api/v1/tasks/{task_id}"
            # An update is conditional on the ETag it was computed from (If-Match),
            # the HTTP way to make it safe to retry: a retry of an update that was
            # applied but not acknowledged answers 412, and the task then shows
            # the change. It also spares the two idempotency-record writes.
            code, updated, headers = _request("PATCH", url, token, change, {"If-Match": etag})
            if code == 412:
                code, updated, headers = _confirm_applied(url, token, change, etag)
            progress.step()
            etag = _header(headers, "ETag") or etag
            with accepted.lock:
                if code == 200:
                    accepted.updates += 1
                    accepted.status[(email, task_id)] = updated.get("status", change["status"])
                else:
                    accepted.rejected += 1

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(one_task, email, i) for email in tokens for i in range(tasks_per_user)
        ]
        for future in as_completed(futures):
            future.result()


def _proc_stat(pid: int) -> Optional[List[str]]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds(pid: int, children: bool = False) -> Optional[float]:
    """User + system CPU time of a process (and its live children) so far.

    Linux ``/proc`` only (None elsewhere); children count for the API, which
    may run as several uvicorn worker processes.
    """
    fields = _proc_stat(pid)
    if fields is None:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if not children:
        return ticks / os.sysconf("SC_CLK_TCK")
    try:
        entries = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        entries = []
    for child in entries:
        child_fields = _proc_stat(child)
        if child_fields is not None and child_fields[1] == str(pid):
            ticks += int(child_fields[11]) + int(child_fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time each local-stack process spent during a phase, per API call.

    The demo is CPU-bound on a small machine: this says which process to
    make cheaper (the emulator, the API, or this process, which drives the
    API and runs the CDC stream runner).
    """

    def __init__(self, processes: Dict[str, Optional[int]]) -> None:
        self.pids = {name: pid for name, pid in processes.items() if pid is not None}
        self.start = {name: self._cpu(pid) for name, pid in self.pids.items()}

    @staticmethod
    def _cpu(pid: int) -> Optional[float]:
        # This process's children are the other components: count itself only.
        return cpu_seconds(pid, children=pid != os.getpid())

    def report(self, calls: int) -> str:
        parts = []
        for name, pid in self.pids.items():
            now, then = self._cpu(pid), self.start[name]
            if now is None or then is None:
                continue
            used = now - then
            parts.append(f"{name} {used:.1f}s ({1000 * used / max(1, calls):.1f} ms/call)")
        return "CPU: " + ", ".join(parts) if parts else ""


class Phases:
    """Wall time of each step, printed at the end as one line."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.spent: List[Tuple[str, float]] = []

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.spent.append((name, now - self.last))
        self.last = now

    def summary(self) -> str:
        return "phases: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.spent)


def _pid_of(component: Any) -> Optional[int]:
    process = getattr(component, "_process", None)
    return getattr(process, "pid", None)


def sign_up(stack: Any, num_users: int, workers: int) -> Dict[str, str]:
    from todo_local.cognito import stack_user_tokens

    progress = Progress("users signed up", num_users)

    def one(i: int) -> Tuple[str, str]:
        email = f"demo-user-{i:04d}@example.com"
        tokens = stack_user_tokens(stack, email, given_name="Demo", family_name=f"User {i}")
        progress.step()
        return email, tokens.id_token

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, range(num_users)))


def run_etl(
    etl_python: str, args: Sequence[str], env: Dict[str, str], label: str
) -> List[Dict[str, Any]]:
    """Run an ETL module like Glue would; echo its progress; return its JSON log lines."""
    print(f"$ python {' '.join(args)}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        [etl_python, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        text=True,
    )
    records: List[Dict[str, Any]] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        try:
            record = json.loads(line)
        except ValueError:
            print(f"  {line}", flush=True)
            continue
        records.append(record)
        message = record.get("message", "")
        if (
            "chunk" in message
            or "complete" in message
            or record.get("level") in ("WARNING", "ERROR")
        ):
            shown = {k: v for k, v in record.items() if k not in ("timestamp", "level")}
            print(f"  [{label}] {json.dumps(shown, default=str)[:400]}", flush=True)
    if proc.wait() != 0:
        raise DemoFailed(f"{label} failed with exit code {proc.returncode}")
    print(f"  [{label}] done in {time.monotonic() - started:.1f}s", flush=True)
    return records


GOLD_TOTALS = r"""
import json, sys
from todo_lake.store import LakeStore
gold = LakeStore(sys.argv[1], sys.argv[2])
users = gold.read_table("user_analytics").to_pylist()
daily = gold.read_table("daily_task_metrics").to_pylist()
kpis = gold.read_table("kpi_snapshot").to_pylist()
kpi = max(kpis, key=lambda r: r["as_of"])
print(json.dumps({
    "users": len(users),
    "tasks_created": sum(u["tasks_created"] for u in users),
    "task_events": sum(u["total_events"] for u in users),
    "daily_created": sum(d["tasks_created"] for d in daily),
    "kpi": {k: v for k, v in kpi.items() if k != "as_of"},
}, default=str))
"""


def verify(
    expected: Dict[str, int],
    gold: Dict[str, Any],
    counters: Optional[Dict[str, int]],
    published: Optional[Dict[str, float]] = None,
) -> List[str]:
    kpi = gold["kpi"]
    checks = [
        ("gold kpi_snapshot TotalUsers", kpi["total_users"], expected["users"]),
        ("gold kpi_snapshot TotalTasks", kpi["total_tasks"], expected["tasks"]),
        ("gold kpi_snapshot CompletedTasks", kpi["completed_tasks"], expected["completed"]),
        ("gold kpi_snapshot ActiveUsers", kpi["active_users"], expected["active_users"]),
        ("gold user_analytics users", gold["users"], expected["users"]),
        ("gold user_analytics sum(tasks_created)", gold["tasks_created"], expected["creates"]),
        (
            "gold user_analytics sum(total_events)",
            gold["task_events"],
            expected["creates"] + expected["updates"],
        ),
        ("gold daily_task_metrics sum(tasks_created)", gold["daily_created"], expected["creates"]),
    ]
    if counters is not None:
        checks += [
            ("API KPI counters TotalTasks", counters["total_tasks"], expected["tasks"]),
            ("API KPI counters CompletedTasks", counters["completed_tasks"], expected["completed"]),
            ("API KPI counters TotalUsers", counters["total_users"], expected["users"]),
        ]
    if published is not None:
        # Same definitions on both sides; the collector publishes the rate in percent.
        for metric, column, scale in (
            ("TotalUsers", "total_users", 1),
            ("ActiveUsers", "active_users", 1),
            ("TotalTasks", "total_tasks", 1),
            ("CompletedTasks", "completed_tasks", 1),
            ("CompletionRate", "completion_rate", 100),
            ("AvgTasksPerUser", "avg_tasks_per_user", 1),
        ):
            if metric in published and kpi.get(column) is not None:
                checks.append(
                    (
                        f"metrics collector {metric} vs gold",
                        round(float(published[metric]), 6),
                        round(float(kpi[column]) * scale, 6),
                    )
                )
    failures = []
    for what, got, want in checks:
        ok = got == want
        print(f"  {'ok ' if ok else 'FAIL'} {what}: {got} (expected {want})", flush=True)
        if not ok:
            failures.append(f"{what}: {got} != {want}")
    return failures


def run_metrics_collector(stack: Any) -> Optional[Dict[str, float]]:
    try:
        from metrics_collector.handler import lambda_handler
    except ImportError:
        print("  the metrics collector is not installed here; skipped", flush=True)
        return None
    env = {
        **client_environment(stack.endpoint_url),
        "STAGE": stack.names.stage,
        "TABLE_NAME": stack.names.table,
        "METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_SERVICE_NAME": "todo-metrics-collector",
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    }
    with environment_applied(env):
        return dict(lambda_handler({}, None))


def read_counters(stack: Any) -> Dict[str, int]:
    """The exact KPI counters the KPI aggregator keeps (what the metrics collector publishes)."""
    import secrets

    from todo_core.cursor import CursorCodec
    from todo_core.repository import TodoRepository

    repo = TodoRepository(
        stack.client("dynamodb"), stack.names.table, CursorCodec(secrets.token_bytes(32))
    )
    counts = repo.read_kpis()
    return {
        "total_users": counts.total_users,
        "active_users": counts.active_users,
        "total_tasks": counts.total_tasks,
        "completed_tasks": counts.completed_tasks,
    }


def _stream_runner(dev: Any) -> Any:
    for component in dev.components:
        if hasattr(component, "drain"):
            return component
    return None


def run_demo(
    num_users: int,
    tasks_per_user: int,
    updates_per_task: int,
    etl_python: str,
    report: str = DEFAULT_REPORT,
    workers: int = DEFAULT_WORKERS,
    drain_timeout: float = 600.0,
    log_dir: str = ".local",
    stack_factory: Optional[Callable[[], Any]] = None,
    api_workers: int = 1,
) -> int:
    from todo_local.devstack import DevStack

    t0 = time.monotonic()
    phases = Phases(t0)
    print(
        f"demo: {num_users} users x {tasks_per_user} tasks x {updates_per_task} updates", flush=True
    )
    # The CDC mapping batches as the deployed one does (100 records or 5 s):
    # fewer, fuller invocations than invoking on every poll.
    dev = (
        stack_factory()
        if stack_factory
        else DevStack(
            log_dir=log_dir,
            cdc_batching_window=CDC_BATCHING_WINDOW,
            api_workers=api_workers,
        )
    )
    with dev:
        stack = dev.stack
        outputs = stack.outputs()
        api = outputs.get("ApiEndpoint")
        runner = _stream_runner(dev)
        missing = [
            m
            for m, present in (
                ("todo_local.api_process", api),
                ("todo_local.stream_runner", runner),
            )
            if not present
        ]
        if missing:
            raise DemoFailed(f"the local stack lacks {', '.join(missing)}: cannot run the demo")
        print(f"[1/7] local stack up in {time.monotonic() - t0:.1f}s: API {api}", flush=True)
        phases.mark("stack up")

        print("[2/7] creating users in Cognito", flush=True)
        tokens = sign_up(stack, num_users, min(workers, 8))
        accepted = Accepted(users=num_users)
        phases.mark("sign-up")

        print("[3/7] driving the API", flush=True)
        api_process = next((c for c in dev.components if hasattr(c, "forwarder")), None)
        meter = CpuMeter(
            {
                "emulator": _pid_of(getattr(dev, "emulator", None)),
                "API": _pid_of(api_process),
                "driver+CDC": os.getpid(),
            }
        )
        started = time.monotonic()
        drive_api(api, tokens, tasks_per_user, updates_per_task, workers, accepted)
        calls = accepted.creates + accepted.updates + accepted.rejected
        print(
            f"  accepted: {accepted.creates} creates, {accepted.updates} updates; "
            f"rejected: {accepted.rejected}; "
            f"{calls / max(1e-9, time.monotonic() - started):,.0f} calls/s",
            flush=True,
        )
        usage = meter.report(calls)
        if usage:
            print(f"  {usage}", flush=True)
        phases.mark("API calls")

        print("[4/7] waiting for the CDC stream to drain into bronze", flush=True)
        started = time.monotonic()
        runner.drain(timeout=drain_timeout)
        # Every other mapping of the stream too (the KPI aggregator's counters).
        for other in dev.components:
            if other is not runner and hasattr(other, "drain"):
                other.drain(timeout=drain_timeout)
        time.sleep(1.5)  # the API's log forwarder flushes every second
        print(f"  drained in {time.monotonic() - started:.1f}s", flush=True)
        phases.mark("CDC drain")

        names = stack.names
        env = {**client_environment(stack.endpoint_url)}
        print("[5/7] silver, then gold (separate processes, as in Glue)", flush=True)
        run_etl(
            etl_python,
            ["-m", "todo_silver.job", *glue_job_arguments(names)],
            env,
            "silver",
        )
        phases.mark("silver")
        as_of = dt.datetime.now(dt.timezone.utc).isoformat()
        run_etl(
            etl_python,
            ["-m", "todo_gold.job", *glue_job_arguments(names, AS_OF=as_of)],
            env,
            "gold",
        )
        phases.mark("gold")

        print("[6/7] metrics collector", flush=True)
        published = run_metrics_collector(stack)
        if published is not None:
            print(f"  published to CloudWatch: {json.dumps(published)}", flush=True)
        phases.mark("metrics collector")

        print("[7/7] insights", flush=True)
        outputs_path = os.path.join(log_dir, "outputs-demo.json")
        stack.write_outputs(outputs_path)
        insights_env = {**env}
        # One process prints every insight and writes the report: each Python
        # start with the lake's libraries costs seconds.
        subprocess.run(
            [
                etl_python,
                "-m",
                "todo_gold.insights.cli",
                "all",
                "--report",
                "--outputs",
                outputs_path,
                "--out",
                report,
            ],
            env={**os.environ, **insights_env},
            check=True,
        )

        gold_totals = json.loads(
            subprocess.run(
                [etl_python, "-c", GOLD_TOTALS, names.gold_bucket, names.glue_database],
                env={**os.environ, **env},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        counters = read_counters(stack)
        phases.mark("insights, report, totals")

    expected = {
        "users": num_users,
        "creates": accepted.creates,
        "updates": accepted.updates,
        "tasks": accepted.creates,  # the demo deletes nothing
        "completed": accepted.completed,
        # Every user changed a task within the last 24 hours.
        "active_users": len({email for email, _ in accepted.status}),
    }
    print("verification: gold against what the API accepted", flush=True)
    failures = verify(expected, gold_totals, counters, published)
    phases.mark("stack stop, verify")
    elapsed = time.monotonic() - t0
    print(phases.summary(), flush=True)
    if failures:
        print(f"demo FAILED after {elapsed:.0f}s: " + "; ".join(failures), flush=True)
        return 1
    print(f"demo OK in {elapsed:.0f}s: report at {report}", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_local.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--etl-python",
        default=os.environ.get("TODO_ETL_PYTHON"),
        help="Python of the ETL environment (etl/ workspace) that runs the Glue jobs",
    )
    parser.add_argument("--report", default=DEFAULT_REPORT)
    parser.add_argument("--workers", type=int, default=_int_env("DEMO_WORKERS", DEFAULT_WORKERS))
    parser.add_argument("--log-dir", default=".local")
    parser.add_argument(
        "--api-workers",
        type=int,
        default=_int_env("DEMO_API_WORKERS", 2),
        help="uvicorn worker processes serving the API",
    )
    args = parser.parse_args(argv)
    if not args.etl_python:
        parser.error("--etl-python (or TODO_ETL_PYTHON) is required: `nox -s demo` sets it")
    try:
        return run_demo(
            _int_env("NUM_USERS", 3),
            _int_env("TASKS_PER_USER", 5),
            _int_env("UPDATES_PER_TASK", 3),
            args.etl_python,
            report=args.report,
            workers=args.workers,
            log_dir=args.log_dir,
            api_workers=args.api_workers,
        )
    except DemoFailed as exc:
        print(f"demo FAILED: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
