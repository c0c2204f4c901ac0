"""wait_for ends on the awaited condition, not on the first value read."""

from __future__ import annotations

import itertools

import pytest

from todo_local.waiting import WaitTimeout, wait_for


def test_it_keeps_reading_past_values_that_do_not_satisfy_the_condition() -> None:
    reads = itertools.count()
    value = wait_for(lambda: next(reads), until=lambda n: n >= 3, timeout=5, what="3", interval=0)
    assert value == 3


def test_it_fails_naming_what_it_waited_for_and_the_last_value() -> None:
    with pytest.raises(WaitTimeout, match=r"waiting for the create-task line; last read: \['x'\]"):
        wait_for(lambda: ["x"], until=lambda lines: "y" in lines, timeout=0.05,
                 what="the create-task line", interval=0.01)


def test_a_condition_that_turns_true_during_the_last_sleep_still_passes() -> None:
    reads = iter([False, True])
    assert wait_for(lambda: next(reads), until=bool, timeout=0, what="x", interval=0) is True
