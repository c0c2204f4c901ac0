from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from tests.readback import read_datapoints, read_published

T0 = dt.datetime(2025, 1, 27, 10, 0, tzinfo=dt.timezone.utc)


class FakeStatistics:
    def __init__(self, points: Dict[str, List[Dict[str, Any]]]) -> None:
        self.points = points
        self.requests: List[Dict[str, Any]] = []

    def get_metric_statistics(self, **request: Any) -> Dict[str, Any]:
        self.requests.append(request)
        return {"Datapoints": self.points.get(request["MetricName"], [])}


def test_takes_the_latest_datapoint_of_each_metric_for_the_stage() -> None:
    fake = FakeStatistics(
        {
            "TotalTasks": [
                {"Timestamp": T0 + dt.timedelta(minutes=5), "Maximum": 12.0, "Unit": "Count"},
                {"Timestamp": T0, "Maximum": 10.0, "Unit": "Count"},
            ],
            "CompletionRate": [{"Timestamp": T0, "Maximum": 50.0, "Unit": "Percent"}],
        }
    )

    points = read_datapoints(fake, "TodoApi/CustomMetrics", "prod", now=T0 + dt.timedelta(hours=1))

    assert {k: (p.value, p.unit) for k, p in points.items()} == {
        "TotalTasks": (12.0, "Count"),
        "CompletionRate": (50.0, "Percent"),
    }
    assert len(fake.requests) == 6
    assert all(r["Namespace"] == "TodoApi/CustomMetrics" for r in fake.requests)
    assert all(r["Dimensions"] == [{"Name": "Stage", "Value": "prod"}] for r in fake.requests)


def test_read_published_is_name_to_value() -> None:
    fake = FakeStatistics({"TotalUsers": [{"Timestamp": T0, "Maximum": 3.0, "Unit": "Count"}]})
    assert read_published(fake, stage="dev") == {"TotalUsers": 3.0}
