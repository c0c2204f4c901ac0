"""The handler's heap setting takes effect on the Lambda runtime's C library."""

from __future__ import annotations

import platform

import pytest

from cdc_processor import heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_trim_threshold_is_accepted_by_glibc() -> None:
    assert heap.keep_freed_heap() is True


def test_the_threshold_holds_a_whole_invocation() -> None:
    # An invocation carries at most 6 MB of stream records; their change
    # events must fit in the free heap kept for the next batch.
    assert heap.TRIM_THRESHOLD_BYTES >= 6 * 1024 * 1024
