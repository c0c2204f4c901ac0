"""The demo's steps after the API traffic: the Glue jobs, the metrics collector,
gold's totals and the API's own counters.

The Glue jobs, the insights and gold's totals run as processes of the Glue
jobs' environment (``--etl-python``), as Glue would run them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from todo_core.naming import METRICS_NAMESPACE
from todo_demo import gold_totals
from todo_demo.driver import DemoFailed
from todo_local.emulator import client_environment, environment_applied

#: Where ``--etl-python`` comes from when it is not given (the nox sessions set it).
ETL_PYTHON_ENV = "TODO_ETL_PYTHON"


def add_etl_python_option(parser: argparse.ArgumentParser) -> None:
    """``--etl-python``: the Python the Glue jobs run with (the etl/ workspace's)."""
    parser.add_argument(
        "--etl-python",
        default=os.environ.get(ETL_PYTHON_ENV),
        help=f"Python of the ETL environment (etl/ workspace) that runs the Glue jobs"
        f" (default: ${ETL_PYTHON_ENV})",
    )


def require_etl_python(
    parser: argparse.ArgumentParser, etl_python: Optional[str], session: str
) -> str:
    """The ETL Python, or the parser's usage error naming the nox session that sets it."""
    if not etl_python:
        parser.error(f"--etl-python (or {ETL_PYTHON_ENV}) is required: `nox -s {session}` sets it")
    return etl_python


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


#: The engines the Glue jobs can run on, and what the demo runs for each.
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EtlStep:
    """One process of step 5: the Python that runs it, its arguments, its label."""

    python: str
    args: List[str]
    label: str


def etl_steps(
    engine: str,
    etl_python: str,
    spark_python: Optional[str],
    job_arguments: Callable[..., List[str]],
    bronze_bucket: str,
    lake_root: str,
) -> Tuple[List[EtlStep], List[EtlStep]]:
    """Silver's processes, then gold's (gold's take ``AS_OF`` when they start).

    ``duckdb``: the Python-shell jobs (``todo_silver.job``, ``todo_gold.job``)
    in the Glue jobs' environment. ``spark``: the Glue Spark jobs
    (``todo_lake_spark``) in the Spark environment; locally Spark reads and
    writes a ``file://`` lake root laid out like the buckets, so the bronze
    the stack's Firehose delivered is first mirrored there. Gold is written
    to the emulator's S3 by either engine, where the insights read it.
    """
    if engine == "duckdb":
        return (
            [EtlStep(etl_python, ["-m", "todo_silver.job", *job_arguments()], "silver")],
            [EtlStep(etl_python, ["-m", "todo_gold.job", *job_arguments(gold=True)], "gold")],
        )
    if engine != "spark":
        raise DemoFailed(f"ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
    if not spark_python:
        raise DemoFailed("ENGINE=spark needs --spark-python: `ENGINE=spark nox -s demo` sets it")
    root = ["--LAKE_ROOT", lake_root]
    return (
        [
            EtlStep(
                spark_python,
                ["-m", "todo_lake_spark.gold_lake", bronze_bucket, lake_root],
                "bronze to the local lake",
            ),
            EtlStep(
                spark_python,
                ["-m", "todo_lake_spark.silver_job", *job_arguments(), *root],
                "silver on Spark",
            ),
        ],
        [
            EtlStep(
                spark_python,
                ["-m", "todo_lake_spark.gold_job", *job_arguments(gold=True), *root],
                "gold on Spark",
            )
        ],
    )


def read_gold_totals(etl_python: str, gold_bucket: str, database: str, env: Dict[str, str]) -> Any:
    """Gold's totals (:mod:`todo_demo.gold_totals`, run in the ETL environment)."""
    result = subprocess.run(
        [etl_python, gold_totals.__file__, gold_bucket, database],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


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
