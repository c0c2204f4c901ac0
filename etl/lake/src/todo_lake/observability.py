"""Run reporting: one structured log line and CloudWatch metrics per run.

Glue Python-shell jobs send stdout to CloudWatch Logs, so the log line is a
JSON object on stdout. Metrics go to the ETL namespace with the stage and the
job as dimensions; publishing them is best effort (a run that already
committed its work must not fail because a metric could not be sent).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, Callable, Mapping, Optional

#: CloudWatch namespace of the ETL jobs' run metrics.
ETL_METRICS_NAMESPACE = "TodoApi/ETL"


def log(level: str, message: str, **fields: Any) -> None:
    record = {
        "level": level,
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "message": message,
        **fields,
    }
    sys.stdout.write(json.dumps(record, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


def publish_metrics(
    job: str,
    values: Mapping[str, float],
    stage: Optional[str],
    namespace: str = ETL_METRICS_NAMESPACE,
    units: Optional[Mapping[str, str]] = None,
    client: Optional[Any] = None,
) -> bool:
    """PutMetricData for ``values``; returns False (and logs) when it fails."""
    dimensions = [{"Name": "Job", "Value": job}]
    if stage:
        dimensions.append({"Name": "Stage", "Value": stage})
    units = units or {}
    data = [
        {
            "MetricName": name,
            "Dimensions": dimensions,
            "Value": float(value),
            "Unit": units.get(name, "Count"),
        }
        for name, value in values.items()
    ]
    try:
        if client is None:
            import boto3

            client = boto3.client("cloudwatch")
        for start in range(0, len(data), 500):
            client.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])
        return True
    except Exception as exc:
        log("WARNING", "could not publish run metrics", job=job, error=repr(exc))
        return False


def run_logged(job: str, run: Callable[[], object]) -> int:
    """A job's ``main``: run it; a failure is logged as one JSON line, then raised
    (Glue marks the run failed on the exception)."""
    try:
        run()
    except Exception as exc:
        log("ERROR", f"{job} run failed", error=repr(exc))
        raise
    return 0
