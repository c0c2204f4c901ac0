from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_collector.errors import InconsistentCounters
from metrics_collector.kpis import METRICS, UNITS, BusinessKpis
from todo_core.repository import KpiCounts

counts = st.builds(
    lambda users, active, total, done: KpiCounts(users, active, total, min(done, total)),
    st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9),
)


def test_the_runbooks_six_metrics_with_their_units() -> None:
    assert [m.name for m in METRICS] == [
        "TotalUsers", "ActiveUsers", "TotalTasks", "CompletedTasks",
        "CompletionRate", "AvgTasksPerUser",
    ]
    assert UNITS == {
        "TotalUsers": "Count", "ActiveUsers": "Count", "TotalTasks": "Count",
        "CompletedTasks": "Count", "CompletionRate": "Percent", "AvgTasksPerUser": "None",
    }


def test_an_example() -> None:
    kpis = BusinessKpis.from_counts(KpiCounts(4, 2, 10, 3))
    assert kpis.publishable() == {
        "TotalUsers": 4, "ActiveUsers": 2, "TotalTasks": 10, "CompletedTasks": 3,
        "CompletionRate": 30.0, "AvgTasksPerUser": 2.5,
    }


@given(counts)
def test_ratios_are_defined_exactly_when_their_denominator_is_not_zero(c: KpiCounts) -> None:
    kpis = BusinessKpis.from_counts(c)
    assert (kpis.completion_rate is None) == (c.total_tasks == 0)
    assert (kpis.avg_tasks_per_user is None) == (c.total_users == 0)
    if kpis.completion_rate is not None:
        assert 0.0 <= kpis.completion_rate <= 100.0
        assert kpis.completion_rate == pytest.approx(100 * c.completed_tasks / c.total_tasks)
    if kpis.avg_tasks_per_user is not None:
        assert kpis.avg_tasks_per_user == pytest.approx(c.total_tasks / c.total_users)
    published = kpis.publishable()
    assert set(published) | set(kpis.undefined()) == set(UNITS)
    assert not set(published) & set(kpis.undefined())
    assert published["TotalTasks"] == c.total_tasks  # counts pass through untouched


def test_all_completed_is_100_percent() -> None:
    assert BusinessKpis.from_counts(KpiCounts(1, 1, 7, 7)).completion_rate == 100.0


@pytest.mark.parametrize(
    "bad",
    [
        KpiCounts(-1, 0, 0, 0),
        KpiCounts(0, -1, 0, 0),
        KpiCounts(1, 0, -2, 0),
        KpiCounts(1, 0, 3, -1),
        KpiCounts(1, 0, 3, 4),  # more completed than existing
    ],
)
def test_broken_invariants_are_refused(bad: KpiCounts) -> None:
    with pytest.raises(InconsistentCounters):
        BusinessKpis.from_counts(bad)
