"""Firehose PutRecordBatch limits, and splitting a batch of payloads to fit them.

Quotas (per call): at most 500 records and 4 MiB of record data; each record at
most 1,000 KiB (before base64). A stream record whose change event is bigger
than one Firehose record cannot be delivered and is reported as failed.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import List, Sequence

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024


def chunk_by_limits(
    sizes: Sequence[int],
    max_records: int = MAX_RECORDS_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> List[range]:
    """Consecutive index ranges over ``sizes``, each fitting one PutRecordBatch call.

    Greedy and order-preserving: every index appears in exactly one range, in
    order, and no range holds more than ``max_records`` entries or more than
    ``max_bytes`` bytes. A single entry larger than ``max_bytes`` is a caller
    bug (oversize records are rejected before chunking): ValueError.
    """
    if max_records < 1 or max_bytes < 1:
        raise ValueError("limits must be positive")
    if sizes and max(sizes) > max_bytes:
        index = next(i for i, size in enumerate(sizes) if size > max_bytes)
        raise ValueError(f"entry {index} ({sizes[index]} bytes) exceeds the per-call limit")
    # Greedy, without a Python step per entry (this runs on every batch): the
    # running byte totals are summed in C, and each chunk ends at the last
    # entry whose running total still fits, found by bisection among the
    # next ``max_records`` entries.
    ends = list(accumulate(sizes))
    chunks: List[range] = []
    start, used = 0, 0
    while start < len(ends):
        end = bisect_right(ends, used + max_bytes, start, min(len(ends), start + max_records))
        chunks.append(range(start, end))
        start, used = end, ends[end - 1]
    return chunks
