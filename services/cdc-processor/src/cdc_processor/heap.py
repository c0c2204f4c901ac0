"""Keep the memory a batch frees for the next batch (glibc's heap trimming).

The handler holds every change event of a batch until Firehose has taken it
(about 1.7 MB for 1,000 records), then frees them all at once. glibc then
finds that much free memory at the top of its heap, above its trim threshold
(128 KiB by default), and gives it back to the kernel; the next batch faults
every page of it in again. Measured on 1,000-record batches: holding the
lines cost the conversion loop about 30% of its speed with the default
threshold, about 6% with a threshold above a batch (README, Benchmarks).
Raising the threshold keeps up to that much free heap in the process, which
the next invocation reuses.
"""

from __future__ import annotations

import ctypes

#: glibc's ``mallopt`` parameter number for the trim threshold (malloc.h).
M_TRIM_THRESHOLD = -1
#: Free heap kept for the next batch: above one batch's change events (an
#: invocation carries at most 6 MB of stream records, and a change event is
#: smaller than the record it comes from).
TRIM_THRESHOLD_BYTES = 32 * 1024 * 1024


def keep_freed_heap(threshold: int = TRIM_THRESHOLD_BYTES) -> bool:
    """Raise glibc's trim threshold; False where the C library has no ``mallopt``."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. macOS in development)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, threshold))
