"""Every metric has one name, one meaning and one unit (METRICS.md): no
column called ``completion_rate`` means anything but completed / existing
tasks (a 0-1 ratio), no ``active_users`` anything but the 24 hours up to
``as_of``; the current, partial day is flagged; ``user-engagement`` answers
who is most active over a recent window, and WAU / MAU are published."""

import pytest

from tests.conftest import AS_OF
from todo_gold.insights.cli import Insights

pytestmark = pytest.mark.integration


@pytest.fixture
def gold(pipeline):
    from tests.conftest import fixed_workload

    pipeline.put(fixed_workload())
    pipeline.silver()
    pipeline.gold()
    return pipeline


def test_daily_columns_say_what_they_count_and_flag_the_partial_day(gold):
    rows = {r["metric_date"]: r for r in gold.table("daily_task_metrics", "metric_date")}
    one, two, three = rows["2025-03-01"], rows["2025-03-02"], rows["2025-03-03"]
    assert "completion_rate" not in one
    assert "active_users" not in one
    # Completions per creation, not a completion rate: it can exceed 1.
    assert (one["completions_per_creation"], two["completions_per_creation"]) == (0.5, 0.0)
    assert three["completions_per_creation"] is None
    assert (one["daily_active_users"], two["daily_active_users"]) == (1, 2)
    # AS_OF is 2025-03-03 12:00: that day is not over.
    assert [r["is_partial_day"] for r in (one, two, three)] == [False, False, True]


def test_kpis_have_weekly_and_monthly_active_users(gold):
    [kpi] = gold.table("kpi_snapshot", "snapshot_date")
    # Alice changed tasks on days 1 and 2, Bob on days 2 and 3: both within 7 days.
    assert (kpi["active_users"], kpi["weekly_active_users"], kpi["monthly_active_users"]) == (
        1,
        2,
        2,
    )
    assert 0.0 <= kpi["completion_rate"] <= 1.0


def test_user_engagement_ranks_the_most_active_users_over_a_recent_window(gold):
    names = gold.names
    insights = Insights(names.gold_bucket, names.glue_database)
    rows = insights.run("user-engagement").to_pylist()
    # Alice: 4 task changes (a1 insert+modify, a2, a3 insert+remove = 5);
    # Bob: b1 insert, two modifies = 3. Both within 30 days of AS_OF.
    assert [(r["user_id"], r["changes_last_30_days"]) for r in rows] == [
        ("u-alice", 5),
        ("u-bob", 3),
    ]
    assert [r["changes_last_7_days"] for r in rows] == [5, 3]
    kpis = insights.run("kpis").to_pylist()[0]
    assert kpis["weekly_active_users"] == 2
    assert kpis["wau_per_mau"] == 1.0
    assert kpis["as_of"] == AS_OF.replace(tzinfo=None)
