"""Chunking payloads to PutRecordBatch's limits, for any sizes."""

from __future__ import annotations

from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdc_processor.limits import (
    MAX_BYTES_PER_CALL,
    MAX_RECORD_BYTES,
    MAX_RECORDS_PER_CALL,
    chunk_by_limits,
)


def test_the_limits_are_firehose_quotas() -> None:
    assert MAX_RECORDS_PER_CALL == 500
    assert MAX_BYTES_PER_CALL == 4 * 1024 * 1024
    assert MAX_RECORD_BYTES == 1000 * 1024


@given(st.lists(st.integers(min_value=1, max_value=MAX_RECORD_BYTES), max_size=1500))
def test_chunks_respect_the_limits_keep_order_and_cover_each_entry_once(sizes: List[int]) -> None:
    chunks = chunk_by_limits(sizes)

    assert [i for chunk in chunks for i in chunk] == list(range(len(sizes)))
    for chunk in chunks:
        assert 1 <= len(chunk) <= MAX_RECORDS_PER_CALL
        assert sum(sizes[i] for i in chunk) <= MAX_BYTES_PER_CALL


@given(
    st.lists(st.integers(min_value=1, max_value=64), max_size=200),
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=64, max_value=500),
)
def test_chunks_are_greedy_a_chunk_closes_only_when_the_next_entry_does_not_fit(
    sizes: List[int], max_records: int, max_bytes: int
) -> None:
    chunks = chunk_by_limits(sizes, max_records=max_records, max_bytes=max_bytes)

    for chunk, following in zip(chunks, chunks[1:]):
        full = len(chunk) == max_records
        no_room = sum(sizes[i] for i in chunk) + sizes[following[0]] > max_bytes
        assert full or no_room
        assert sum(sizes[i] for i in chunk) <= max_bytes


def test_500_small_records_fill_one_call_and_the_501st_starts_another() -> None:
    assert [len(c) for c in chunk_by_limits([100] * 501)] == [500, 1]


def test_four_mib_is_the_byte_bound() -> None:
    one_mib = 1024 * 1024
    assert [len(c) for c in chunk_by_limits([one_mib - 1] * 5)] == [4, 1]
    assert [len(c) for c in chunk_by_limits([one_mib] * 5)] == [4, 1]
    assert [len(c) for c in chunk_by_limits([one_mib + 1] * 5)] == [3, 2]


def test_no_entries_no_chunks() -> None:
    assert chunk_by_limits([]) == []


def test_an_entry_larger_than_a_call_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        chunk_by_limits([10, MAX_BYTES_PER_CALL + 1])
