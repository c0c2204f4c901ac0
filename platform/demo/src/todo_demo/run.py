"""The whole product on the local stack, end to end, verified.

    python3 noxfile.py -s demo          (NUM_USERS, TASKS_PER_USER, UPDATES_PER_TASK)

1. start the local stack (emulator, API, CDC stream runner);
2. create NUM_USERS users in the emulator's Cognito and sign them in;
3. drive the API over HTTP: TASKS_PER_USER tasks per user, UPDATES_PER_TASK
   updates per task (as the operations runbook's ETL test script does);
4. wait until the CDC stream has drained into the bronze bucket;
5. run the silver job, then the gold job, each as its own process in the ETL
   environment, as Glue would (``python -m todo_silver.job --BRONZE_BUCKET ...``);
   with ENGINE=spark, the Glue Spark jobs (``todo_lake_spark``) instead;
6. run the metrics collector, if it is installed;
7. print the KPIs and insights, write ``.local/report.html``;
8. verify: gold's totals equal what the API accepted (and the API's own KPI
   counters); exit non-zero otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from todo_demo.cpu import CpuMeter, Phases
from todo_demo.driver import Accepted, DemoFailed, drive_api, sign_up
from todo_demo.pipeline import (
    ENGINES,
    add_etl_python_option,
    etl_steps,
    read_counters,
    read_gold_totals,
    require_etl_python,
    run_etl,
    run_metrics_collector,
)
from todo_demo.verify import verify
from todo_local.devstack import DevStack
from todo_local.emulator import client_environment
from todo_local.stack import glue_job_arguments

DEFAULT_REPORT = os.path.join(".local", "report.html")
#: Driver threads: each waits on a round trip most of the time, so there are
#: more of them than cores (see the README's throughput notes).
DEFAULT_WORKERS = 16
#: The deployed event source mapping's MaximumBatchingWindowInSeconds
#: (platform/pulumi stack configuration, ``maximumBatchingWindowSeconds``).
CDC_BATCHING_WINDOW = 5.0


@dataclass(frozen=True)
class DemoSize:
    num_users: int
    tasks_per_user: int
    updates_per_task: int


@dataclass(frozen=True)
class DemoOptions:
    etl_python: str
    report: str = DEFAULT_REPORT
    workers: int = DEFAULT_WORKERS
    drain_timeout: float = 600.0
    log_dir: str = ".local"
    api_workers: int = 1
    #: Where the Glue jobs run: the Python-shell jobs, or the Spark jobs.
    engine: str = "duckdb"
    #: The Spark jobs' environment (Python 3.11, pyspark), for ``engine="spark"``.
    spark_python: Optional[str] = None


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _pid_of(component: Any) -> Optional[int]:
    process = getattr(component, "_process", None)
    return getattr(process, "pid", None)


def _component(dev: Any, attribute: str) -> Any:
    """The first started component that has ``attribute`` (e.g. the stream runner's drain)."""
    return next((c for c in dev.components if hasattr(c, attribute)), None)


def _api_traffic(dev: Any, size: DemoSize, options: DemoOptions, phases: Phases) -> Accepted:
    """Steps 2 and 3: users, then every task's create and updates through the API."""
    stack, api = dev.stack, dev.stack.outputs()["ApiEndpoint"]
    print("[2/7] creating users in Cognito", flush=True)
    tokens = sign_up(stack, size.num_users, min(options.workers, 8))
    accepted = Accepted(users=size.num_users)
    phases.mark("sign-up")

    print("[3/7] driving the API", flush=True)
    meter = CpuMeter(
        {
            "emulator": _pid_of(getattr(dev, "emulator", None)),
            "API": _pid_of(_component(dev, "forwarder")),
            "driver+CDC": os.getpid(),
        }
    )
    started = time.monotonic()
    drive_api(api, tokens, size.tasks_per_user, size.updates_per_task, options.workers, accepted)
    calls = accepted.creates + accepted.updates + accepted.rejected
    print(
        f"  accepted: {accepted.creates} creates, {accepted.updates} updates; "
        f"rejected: {accepted.rejected}; "
        f"{calls / max(1e-9, time.monotonic() - started):,.0f} calls/s",
        flush=True,
    )
    for rejection in accepted.rejections:
        print(f"  rejected: {rejection}", flush=True)
    usage = meter.report(calls)
    if usage:
        print(f"  {usage}", flush=True)
    phases.mark("API calls")
    return accepted


def _drain_cdc(dev: Any, options: DemoOptions, phases: Phases) -> None:
    """Step 4: every stream record through the CDC function into bronze, and
    through every other mapping of the stream (the KPI aggregator's counters)."""
    print("[4/7] waiting for the CDC stream to drain into bronze", flush=True)
    started = time.monotonic()
    for runner in [c for c in dev.components if hasattr(c, "drain")]:
        runner.drain(timeout=options.drain_timeout)
    time.sleep(1.5)  # the API's log forwarder flushes every second
    print(f"  drained in {time.monotonic() - started:.1f}s", flush=True)
    phases.mark("CDC drain")


def _glue_jobs(dev: Any, options: DemoOptions, env: Dict[str, str], phases: Phases) -> None:
    """Step 5: silver, then gold, each its own process as in Glue, on the chosen engine."""
    names = dev.stack.names
    lake_root = os.path.abspath(os.path.join(options.log_dir, "lake"))
    # The local lake root holds this run's data only (the stack starts empty).
    shutil.rmtree(lake_root, ignore_errors=True)
    # Gold's snapshot describes this moment: every change the API accepted is
    # already in bronze (the stream has drained).
    as_of = dt.datetime.now(dt.timezone.utc).isoformat()

    def job_arguments(gold: bool = False) -> List[str]:
        return glue_job_arguments(names, **({"AS_OF": as_of} if gold else {}))

    silver, gold = etl_steps(
        options.engine,
        options.etl_python,
        options.spark_python,
        job_arguments,
        names.bronze_bucket,
        "file://" + lake_root,
    )
    print(
        f"[5/7] silver, then gold on {options.engine} (separate processes, as in Glue)",
        flush=True,
    )
    for step in silver:
        run_etl(step.python, step.args, env, step.label)
    phases.mark("silver")
    for step in gold:
        run_etl(step.python, step.args, env, step.label)
    phases.mark("gold")


def _insights(
    dev: Any, options: DemoOptions, env: Dict[str, str], phases: Phases
) -> Dict[str, Any]:
    """Step 7: the insights and the report (one process: each Python start with
    the lake's libraries costs seconds); then gold's totals and the API's counters."""
    print("[7/7] insights", flush=True)
    stack = dev.stack
    outputs_path = os.path.join(options.log_dir, "outputs-demo.json")
    stack.write_outputs(outputs_path)
    subprocess.run(
        [
            options.etl_python,
            "-m",
            "todo_gold.insights.cli",
            "all",
            "--report",
            "--outputs",
            outputs_path,
            "--out",
            options.report,
        ],
        env={**os.environ, **env},
        check=True,
    )
    results = {
        "gold": read_gold_totals(
            options.etl_python, stack.names.gold_bucket, stack.names.glue_database, env
        ),
        "counters": read_counters(stack),
    }
    phases.mark("insights, report, totals")
    return results


def _expected(size: DemoSize, accepted: Accepted) -> Dict[str, int]:
    return {
        "users": size.num_users,
        "creates": accepted.creates,
        "updates": accepted.updates,
        "tasks": accepted.creates,  # the demo deletes nothing
        "completed": accepted.completed,
        # Every user changed a task within the last 24 hours.
        "active_users": len({email for email, _ in accepted.status}),
    }


def _check_components(dev: Any) -> None:
    missing = [
        module
        for module, present in (
            ("todo_local.api_process", dev.stack.outputs().get("ApiEndpoint")),
            ("todo_local.stream_runner", _component(dev, "drain")),
            # Without the stream's second reader the KPI counters stay at zero.
            ("kpi_aggregator", len([c for c in dev.components if hasattr(c, "drain")]) >= 2),
        )
        if not present
    ]
    if missing:
        raise DemoFailed(f"the local stack lacks {', '.join(missing)}: cannot run the demo")


def run_demo(
    size: DemoSize,
    options: DemoOptions,
    stack_factory: Optional[Callable[[], Any]] = None,
) -> int:
    """Every step against one local stack; 0 when gold matches what the API accepted."""
    t0 = time.monotonic()
    phases = Phases(t0)
    print(
        f"demo: {size.num_users} users x {size.tasks_per_user} tasks x "
        f"{size.updates_per_task} updates",
        flush=True,
    )
    # The CDC mapping batches as the deployed one does (100 records or 5 s):
    # fewer, fuller invocations than invoking on every poll.
    dev = (
        stack_factory()
        if stack_factory
        else DevStack(
            log_dir=options.log_dir,
            cdc_batching_window=CDC_BATCHING_WINDOW,
            api_workers=options.api_workers,
        )
    )
    with dev:
        _check_components(dev)
        print(
            f"[1/7] local stack up in {time.monotonic() - t0:.1f}s: "
            f"API {dev.stack.outputs()['ApiEndpoint']}",
            flush=True,
        )
        phases.mark("stack up")
        accepted = _api_traffic(dev, size, options, phases)
        _drain_cdc(dev, options, phases)
        env = client_environment(dev.stack.endpoint_url)
        _glue_jobs(dev, options, env, phases)
        print("[6/7] metrics collector", flush=True)
        published = run_metrics_collector(dev.stack)
        if published is not None:
            print(f"  published to CloudWatch: {json.dumps(published)}", flush=True)
        phases.mark("metrics collector")
        results = _insights(dev, options, env, phases)

    print("verification: gold against what the API accepted", flush=True)
    failures = verify(_expected(size, accepted), results["gold"], results["counters"], published)
    phases.mark("stack stop, verify")
    elapsed = time.monotonic() - t0
    print(phases.summary(), flush=True)
    if failures:
        print(f"demo FAILED after {elapsed:.0f}s: " + "; ".join(failures), flush=True)
        return 1
    print(f"demo OK in {elapsed:.0f}s: report at {options.report}", flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m todo_demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_etl_python_option(parser)
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=os.environ.get("ENGINE", "duckdb").lower() or "duckdb",
        help="run silver and gold as the Python-shell jobs (duckdb) or the Spark jobs (spark)",
    )
    parser.add_argument(
        "--spark-python",
        default=os.environ.get("TODO_SPARK_PYTHON"),
        help="Python of the Spark jobs' environment (3.11, pyspark); needed with --engine spark",
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
    require_etl_python(parser, args.etl_python, "demo")
    size = DemoSize(
        _int_env("NUM_USERS", 3), _int_env("TASKS_PER_USER", 5), _int_env("UPDATES_PER_TASK", 3)
    )
    options = DemoOptions(
        etl_python=args.etl_python,
        report=args.report,
        workers=args.workers,
        log_dir=args.log_dir,
        api_workers=args.api_workers,
        engine=args.engine,
        spark_python=args.spark_python,
    )
    if options.engine == "spark" and not options.spark_python:
        parser.error("--engine spark needs --spark-python: `ENGINE=spark nox -s demo` sets it")
    try:
        return run_demo(size, options)
    except DemoFailed as exc:
        print(f"demo FAILED: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
