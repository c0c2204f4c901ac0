"""Read the published KPIs back from CloudWatch (the demo prints them; tests check them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, Optional

from metrics_collector.kpis import METRICS
from metrics_collector.publisher import STAGE_DIMENSION
from todo_core.models import utc_now
from todo_core.naming import METRICS_NAMESPACE

#: CloudWatch's smallest period for standard-resolution metrics.
PERIOD_SECONDS = 60


@dataclass(frozen=True)
class Datapoint:
    value: float
    unit: str
    timestamp: dt.datetime


def read_datapoints(
    cloudwatch: Any,
    namespace: str = METRICS_NAMESPACE,
    stage: str = "local",
    lookback: dt.timedelta = dt.timedelta(hours=3),
    now: Optional[dt.datetime] = None,
) -> Dict[str, Datapoint]:
    """The latest one-minute datapoint (Maximum, as the dashboard graphs) of each KPI.

    KPIs with no data in ``lookback`` are absent from the result.
    """
    now = now or utc_now()
    found: Dict[str, Datapoint] = {}
    for spec in METRICS:
        response = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=spec.name,
            Dimensions=[{"Name": STAGE_DIMENSION, "Value": stage}],
            StartTime=now - lookback,
            EndTime=now + dt.timedelta(minutes=2),
            Period=PERIOD_SECONDS,
            Statistics=["Maximum"],
        )
        points = response.get("Datapoints", [])
        if points:
            latest = max(points, key=lambda p: p["Timestamp"])
            found[spec.name] = Datapoint(
                value=float(latest["Maximum"]),
                unit=str(latest.get("Unit", "")),
                timestamp=latest["Timestamp"],
            )
    return found


def read_published(
    cloudwatch: Any, namespace: str = METRICS_NAMESPACE, stage: str = "local"
) -> Dict[str, float]:
    """``{metric name: latest value}`` for the KPIs found in CloudWatch."""
    points = read_datapoints(cloudwatch, namespace, stage)
    return {name: point.value for name, point in points.items()}
