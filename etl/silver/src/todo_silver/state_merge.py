"""How current state is merged into silver: partitions grouped by bytes.

Merging a creation-date partition reads its files, reduces them with the
run's latest rows and writes them back; a group of partitions is held in
memory at once. Groups are sized by the bytes of the Parquet files they
read (the listing gives them), so memory holds at most about one budget's
worth of state, however the tasks are spread over creation days; a
partition larger than the budget is merged alone (the largest state a
worker holds is then one partition: see the package README's limits).
"""

from __future__ import annotations

from typing import List, Mapping

#: Parquet bytes of state read per merge group (the job's ``--MERGE_MB``).
#: Measured: merging costs about 18 bytes of memory per byte of Parquet read,
#: on top of ~330 MiB for the rest of the run; 16 MiB keeps a group near
#: 300 MiB, leaving room for the run's own latest rows.
DEFAULT_MERGE_MB = 16


def merge_groups(sizes: Mapping[str, int], budget: int) -> List[List[str]]:
    """Partition values (in order) grouped so each group's files add up to at
    most ``budget`` bytes; a partition over the budget forms a group alone."""
    groups: List[List[str]] = []
    group: List[str] = []
    total = 0
    for value in sorted(sizes):
        size = sizes[value]
        if group and total + size > budget:
            groups.append(group)
            group, total = [], 0
        group.append(value)
        total += size
    if group:
        groups.append(group)
    return groups
