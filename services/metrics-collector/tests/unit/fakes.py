"""In-memory stand-ins for the collector's two dependencies (unit tests only)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

from todo_core.repository import KpiCounts


class FakeSource:
    def __init__(self, counts: Optional[KpiCounts] = None, error: Optional[Exception] = None):
        self.counts = counts
        self.error = error
        self.asked_at: List[Optional[dt.datetime]] = []

    def read_kpis(self, now: Optional[dt.datetime] = None) -> KpiCounts:
        self.asked_at.append(now)
        if self.error is not None:
            raise self.error
        assert self.counts is not None
        return self.counts


class FakeCloudWatch:
    """Records PutMetricData calls; can be told to fail."""

    def __init__(self, error: Optional[Exception] = None) -> None:
        self.calls: List[Dict[str, Any]] = []
        self.error = error

    def put_metric_data(self, **kwargs: Any) -> Dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.calls.append(kwargs)
        return {}
