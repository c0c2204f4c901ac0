"""The six business KPIs: their CloudWatch names and units, and how they derive
from the raw counts (definitions in the package README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from metrics_collector.errors import InconsistentCounters
from todo_core.ports import KpiCounts


@dataclass(frozen=True)
class MetricSpec:
    name: str
    #: A CloudWatch ``StandardUnit``.
    unit: str


TOTAL_USERS = MetricSpec("TotalUsers", "Count")
ACTIVE_USERS = MetricSpec("ActiveUsers", "Count")
TOTAL_TASKS = MetricSpec("TotalTasks", "Count")
COMPLETED_TASKS = MetricSpec("CompletedTasks", "Count")
#: 0-100, as the runbook's "task completion percentage".
COMPLETION_RATE = MetricSpec("CompletionRate", "Percent")
AVG_TASKS_PER_USER = MetricSpec("AvgTasksPerUser", "None")

METRICS: Tuple[MetricSpec, ...] = (
    TOTAL_USERS,
    ACTIVE_USERS,
    TOTAL_TASKS,
    COMPLETED_TASKS,
    COMPLETION_RATE,
    AVG_TASKS_PER_USER,
)
UNITS: Dict[str, str] = {m.name: m.unit for m in METRICS}


@dataclass(frozen=True)
class BusinessKpis:
    """One run's KPI values. A ratio is None when its denominator is 0."""

    total_users: int
    active_users: int
    total_tasks: int
    completed_tasks: int
    completion_rate: Optional[float]
    avg_tasks_per_user: Optional[float]

    @classmethod
    def from_counts(cls, counts: KpiCounts) -> BusinessKpis:
        """Derive the ratios; refuse counts that break an invariant."""
        raw = {
            "total_users": counts.total_users,
            "active_users": counts.active_users,
            "total_tasks": counts.total_tasks,
            "completed_tasks": counts.completed_tasks,
        }
        negative = sorted(name for name, value in raw.items() if value < 0)
        if negative:
            raise InconsistentCounters(f"negative counters: {negative} in {raw}")
        if counts.completed_tasks > counts.total_tasks:
            raise InconsistentCounters(f"more completed than existing tasks: {raw}")
        return cls(
            **raw,
            # No tasks means no completion rate, not a 0 % rate (nor 100 %).
            completion_rate=(
                counts.completed_tasks * 100.0 / counts.total_tasks if counts.total_tasks else None
            ),
            avg_tasks_per_user=(
                counts.total_tasks / counts.total_users if counts.total_users else None
            ),
        )

    def by_name(self) -> Dict[str, Optional[float]]:
        """Every KPI by its CloudWatch name; undefined ratios are None."""
        return {
            TOTAL_USERS.name: self.total_users,
            ACTIVE_USERS.name: self.active_users,
            TOTAL_TASKS.name: self.total_tasks,
            COMPLETED_TASKS.name: self.completed_tasks,
            COMPLETION_RATE.name: self.completion_rate,
            AVG_TASKS_PER_USER.name: self.avg_tasks_per_user,
        }

    def publishable(self) -> Dict[str, float]:
        """The values to publish: everything that is defined."""
        return {name: value for name, value in self.by_name().items() if value is not None}

    def undefined(self) -> List[str]:
        return [name for name, value in self.by_name().items() if value is None]
