"""The 24-hour activity window at its edges, and random workloads against the model."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_stream import apply_stream
from workload import Workload

from metrics_collector import collector
from metrics_collector.publisher import MetricsPublisher
from metrics_collector.settings import Settings
from todo_core import keys
from todo_core.cursor import CursorCodec
from todo_core.models import utc_now
from todo_core.repository import TodoRepository

pytestmark = pytest.mark.integration


def test_active_users_window_is_the_24_hours_before_the_run(
    repo_factory: Any, table: str, stage: str, dynamodb: Any, cloudwatch: Any
) -> None:
    # 03:00 tomorrow: the window spans two daily activity partitions.
    run_at = (utc_now() + dt.timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    w = Workload(repo_factory, run_at=run_at)
    second = 1 / 3600
    w.create("in-by-a-second", "t1", hours_ago=24 - second)
    w.create("exactly-24h", "t2", hours_ago=24)
    w.create("out-by-a-second", "t3", hours_ago=24 + second)
    w.create("yesterday-evening", "t4", hours_ago=5)
    w.create("today", "t5", hours_ago=1)
    w.create("two-days-ago", "t6", hours_ago=49)
    w.create("late-writer", "t7", hours_ago=30)
    w.update("t7", hours_ago=24 - second, status="completed")
    w.create("deleter", "t8", hours_ago=40)
    w.delete("t8", hours_ago=2)

    apply_stream(dynamodb, table)
    kpis = collector.collect(
        collector.kpi_source_for(Settings(stage=stage, table_name=table), dynamodb),
        MetricsPublisher(cloudwatch, "TodoApi/CustomMetrics"),
        stage,
        now=run_at,
    )

    # in-by-a-second, exactly-24h, yesterday-evening, today, late-writer, deleter
    assert kpis.active_users == 6 == w.truth.expected(run_at)["ActiveUsers"]


Step = Tuple[str, int, int, str]
steps = st.lists(
    st.tuples(
        st.sampled_from(["seen", "create", "create", "update", "update", "delete"]),
        st.integers(0, 4),  # user
        st.integers(0, 50),  # which existing task (modulo)
        st.sampled_from(["pending", "in_progress", "completed", "cancelled"]),
    ),
    max_size=25,
)
hours = st.lists(st.floats(0, 60, allow_nan=False), min_size=25, max_size=25).map(
    lambda xs: sorted(xs, reverse=True)  # a script runs forward in time
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps, times=hours)
def test_random_workloads_publish_their_ground_truth(
    local_stack: Any, cloudwatch: Any, script: List[Step], times: List[float]
) -> None:
    dynamodb = local_stack.client("dynamodb")
    table = f"todo-app-data-{uuid.uuid4().hex[:12]}"
    dynamodb.create_table(**keys.TABLE_SPEC.create_table_request(table))
    try:
        w = Workload(
            lambda clock: TodoRepository(
                dynamodb, table, CursorCodec(secrets.token_bytes(32)), clock=clock
            ),
            run_at=utc_now(),
        )
        for (op, user_index, pick, status), ago in zip(script, times):
            user = f"user-{user_index}"
            existing = sorted(name for name, (owner, _) in w.truth.tasks.items() if owner == user)
            if op == "seen":
                w.seen(user, ago)
            elif op == "create" or not existing:
                w.create(user, f"task-{len(w.ids)}", status=status, hours_ago=ago)
            elif op == "update":
                w.update(existing[pick % len(existing)], hours_ago=ago, status=status)
            else:
                w.delete(existing[pick % len(existing)], hours_ago=ago)

        stage = "p" + uuid.uuid4().hex[:10]
        settings = Settings(stage=stage, table_name=table)
        apply_stream(dynamodb, table)
        kpis = collector.run(settings, dynamodb, cloudwatch, now=w.run_at)

        expected = w.truth.expected(w.run_at)
        actual = kpis.by_name()
        assert {k for k, v in actual.items() if v is None} == {
            k for k, v in expected.items() if v is None
        }
        assert {k: v for k, v in actual.items() if v is not None} == pytest.approx(
            {k: v for k, v in expected.items() if v is not None}, rel=1e-12
        )
    finally:
        dynamodb.delete_table(TableName=table)


def test_activity_days_are_utc_days_whatever_the_clocks_zone(
    repo_factory: Any, table: str, dynamodb: Any
) -> None:
    plus5 = dt.timezone(dt.timedelta(hours=5))
    minus8 = dt.timezone(dt.timedelta(hours=-8))
    # A writer whose clock is in UTC+05:00 deletes at its 02:00 on Jan 2nd,
    # which is 21:00 UTC on Jan 1st; the task was created 30 hours earlier, so
    # the delete is its only recent write.
    w = Workload(repo_factory, run_at=dt.datetime(2030, 1, 2, 2, 0, tzinfo=plus5))
    w.create("far-east", "t1", hours_ago=30)
    w.delete("t1")
    an_hour_later = dt.datetime(2030, 1, 1, 22, 0, tzinfo=dt.timezone.utc)
    apply_stream(dynamodb, table)
    assert w.repo.read_kpis(an_hour_later).active_users == 1

    # A reader whose "now" is in UTC-08:00 (17:00 on Jan 1st) at 01:00 UTC on
    # Jan 2nd, after a write at 00:30 UTC on Jan 2nd.
    w.clock.now = dt.datetime(2030, 1, 2, 0, 30, tzinfo=dt.timezone.utc)
    w.create("utc-writer", "t2")
    read_at = dt.datetime(2030, 1, 2, 1, 0, tzinfo=dt.timezone.utc)
    apply_stream(dynamodb, table)
    for zone in (dt.timezone.utc, plus5, minus8):
        assert w.repo.read_kpis(read_at.astimezone(zone)).active_users == 2, zone
    assert w.truth.expected(read_at)["ActiveUsers"] == 2
