"""Hive-style partitions: ``table/col=value/.../file.parquet``, as Athena and Glue read them.

Partition values live in the directory names, not in the files: writers
split rows by partition (:func:`split_partitions`) and write each piece
under :func:`partition_directory`; readers get the values back from the key
(:func:`key_partitions`).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc


def split_partitions(
    table: pa.Table, partition_cols: Sequence[str]
) -> List[Tuple[Tuple[str, ...], pa.Table]]:
    """``[(partition values, rows without the partition columns)]``; one piece if unpartitioned."""
    if not partition_cols:
        return [((), table)]
    data = table.drop_columns(list(partition_cols))
    groups = table.select(list(partition_cols)).group_by(list(partition_cols), use_threads=False)
    pieces = []
    for values in groups.aggregate([]).to_pylist():
        mask = None
        for col in partition_cols:
            test = pc.equal(table.column(col), values[col])
            mask = test if mask is None else pc.and_(mask, test)
        pieces.append((tuple(str(values[c]) for c in partition_cols), data.filter(mask)))
    return pieces


def partition_directory(partition_cols: Sequence[str], values: Sequence[str]) -> str:
    """``a=1/b=2/`` (Hive style), ``""`` for an unpartitioned table."""
    return "".join(f"{c}={v}/" for c, v in zip(partition_cols, values))


def key_partitions(key: str) -> List[Tuple[str, str]]:
    """The ``(column, value)`` pairs of a key's Hive-style directories
    (the inverse of :func:`partition_directory`)."""
    pairs = []
    for part in key.split("/")[:-1]:
        name, sep, value = part.partition("=")
        if sep:
            pairs.append((name, value))
    return pairs
