"""The collapse rule, for any totals."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from todo_gold import collapse_guard

T0 = dt.datetime(2025, 3, 1)
AS_OF = dt.datetime(2025, 3, 2, tzinfo=dt.timezone.utc)


@given(
    previous=st.integers(0, 10**6),
    deletes=st.integers(0, 10**6),
    now=st.integers(0, 10**6),
    max_drop=st.floats(0.01, 1.0),
)
def test_refused_exactly_when_more_than_max_drop_of_the_expected_is_missing(
    previous, deletes, now, max_drop
):
    kpis = {"total_tasks": now, "total_users": now}
    snapshot = {"as_of": T0, "total_tasks": previous, "total_users": previous}
    [tasks, users] = collapse_guard.judge(kpis, snapshot, lambda sql: deletes, max_drop)
    expected = max(0, previous - deletes)
    assert tasks.collapsed == (now < expected * (1 - max_drop))
    assert users.collapsed == tasks.collapsed
    if now >= expected:  # nothing missing is never a collapse
        assert not tasks.collapsed


def test_the_latest_snapshot_at_or_before_the_run_is_the_reference():
    snaps = [
        {"as_of": T0},
        {"as_of": T0 + dt.timedelta(hours=3)},
        {"as_of": T0 + dt.timedelta(days=5)},
    ]
    assert collapse_guard.previous_snapshot(snaps, AS_OF) == snaps[1]
    assert collapse_guard.previous_snapshot([], AS_OF) is None
