"""What a stream record does to the KPI counts: the pure rules of kpi_changes."""

from __future__ import annotations

import datetime as dt
import functools
from typing import List, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stream_records import EPOCH, TaskHistory, record

from todo_core import keys
from todo_core.kpi_changes import KpiDelta, UnreadableRecord, kpi_change, padded

STATUSES = ["pending", "in_progress", "completed", "cancelled", None]

steps = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob", "c#d"]),
        st.sampled_from(["t1", "t2", "t3"]),
        st.sampled_from(STATUSES),
        st.integers(min_value=0, max_value=3 * 24 * 60),
    ),
    max_size=40,
)


@given(steps, st.lists(st.sampled_from(["ann", "bob", "eve"]), max_size=6))
def test_the_deltas_of_any_history_sum_to_its_final_counts(
    script: List[Tuple[str, str, Optional[str], int]], profiles: List[str]
) -> None:
    history = TaskHistory()
    for user in profiles:
        history.profile(user)
    for user, task, status, minutes in script:
        history.write(user, task, status, EPOCH + dt.timedelta(minutes=minutes))
        history.bookkeeping()
    changes = [kpi_change(r) for r in history.records]
    total = functools.reduce(lambda a, c: a + c.delta, changes, KpiDelta())
    assert total.as_dict() == history.counts()
    # Each task change makes its owner active at the time of the change.
    last = {}
    for change in changes:
        if change.active_user is not None:
            assert change.active_at is not None
            last[change.active_user] = max(change.active_at, last.get(change.active_user, EPOCH))
    assert last == history.active
    # Positions order as the sequence numbers do.
    positions = [c.position for c in changes]
    assert positions == sorted(positions)


def test_bookkeeping_changes_nothing() -> None:
    for key in (keys.stats_key(1), keys.kpi_counter_key("s"), keys.task_count_key("u")):
        # (a task count without its write stamp says nothing either)
        change = kpi_change(record("MODIFY", key, 5, {}, {}))
        assert not change.has_effect


def test_a_delete_is_dated_by_the_stamp_on_the_task_count() -> None:
    history = TaskHistory()
    history.write("u", "t", "completed", EPOCH)
    later = EPOCH + dt.timedelta(hours=3)
    history.write("u", "t", None, later)
    removal, count = (kpi_change(r) for r in history.records[-2:])
    assert removal.delta == KpiDelta(tasks=-1, completed=-1)
    assert removal.active_user is None  # a removed item's record has no time of its own
    assert (count.delta, count.active_user, count.active_at) == (KpiDelta(), "u", later)


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"eventName": "INSERT", "dynamodb": {"Keys": {}, "SequenceNumber": "x1"}},
        {"eventName": "TRUNCATE", "dynamodb": {"Keys": {}, "SequenceNumber": "1"}},
        # A task change without images: the stream's view type is wrong.
        record("MODIFY", keys.task_key("u", "t"), 9),
        record("INSERT", keys.task_key("u", "t"), 9, {"updated_at": {"S": "yesterday"}}),
    ],
)
def test_unreadable_records_are_poison(bad: dict) -> None:
    with pytest.raises(UnreadableRecord):
        kpi_change(bad)


@given(st.integers(min_value=0, max_value=10**40 - 1), st.integers(0, 10**40 - 1))
def test_padded_positions_compare_as_the_numbers(a: int, b: int) -> None:
    assert (padded(str(a)) < padded(str(b))) == (a < b)
