"""The CloudWatch side: one PutMetricData call per run."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Mapping

from metrics_collector.errors import PublishFailed
from metrics_collector.kpis import UNITS

STAGE_DIMENSION = "Stage"


def metric_data(
    values: Mapping[str, float], stage: str, timestamp: dt.datetime
) -> List[Dict[str, Any]]:
    """PutMetricData's ``MetricData`` for ``values`` (all six fit one call: the limit is 1000)."""
    return [
        {
            "MetricName": name,
            "Dimensions": [{"Name": STAGE_DIMENSION, "Value": stage}],
            "Timestamp": timestamp,
            "Value": float(value),
            "Unit": UNITS[name],
        }
        for name, value in values.items()
    ]


class MetricsPublisher:
    """Publishes to one namespace with a boto3 CloudWatch client."""

    def __init__(self, client: Any, namespace: str) -> None:
        self._client = client
        self.namespace = namespace

    def publish(self, values: Mapping[str, float], stage: str, timestamp: dt.datetime) -> None:
        if not values:
            return
        try:
            self._client.put_metric_data(
                Namespace=self.namespace, MetricData=metric_data(values, stage, timestamp)
            )
        except Exception as exc:
            raise PublishFailed(f"PutMetricData to {self.namespace} failed: {exc}") from exc
