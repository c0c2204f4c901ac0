"""Waiting for something asynchronous (a stream, Firehose, a process) in tests and tools.

A wait must end on what the caller is about to assert, not on the first sign
of activity: ``wait_for(read, until=lambda lines: wanted in lines)`` keeps
reading until the wanted value is there or the deadline passes.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The awaited condition did not hold before the deadline (a test failure)."""


def wait_for(
    read: Callable[[], T],
    until: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
) -> T:
    """Call ``read`` until ``until(value)`` holds; return that value.

    Raises :class:`WaitTimeout` naming ``what`` (and showing the last value
    read) when ``timeout`` seconds pass first. ``read`` always runs at least
    once, and once more after the deadline, so a slow machine never fails a
    condition that became true during the last sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            value = read()
            if until(value):
                return value
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what}; last read: "
                              f"{value!r:.500}")
        time.sleep(interval)
