"""Reading a gold table as Athena does: only the files the catalog points at.

A gold run writes a new version next to the old one before it switches the
catalog (:mod:`todo_gold.gold_writer`); listing the table's prefix would show
both in the meantime, or after a crash. Reading through the catalog shows
one of them, always.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import pyarrow as pa

from todo_gold import gold_catalog
from todo_lake.store import LakeStore


def current_keys(gold: LakeStore, table: str, glue: Any) -> List[str]:
    """The keys of the files that make up ``table`` now, per the catalog."""
    locations = gold_catalog.current_locations(gold.database, table, glue)
    prefixes = [gold_catalog.key_prefix(loc, gold.bucket) for loc in locations]
    if not prefixes:
        return []
    return gold_catalog.keys_under(gold.data_files(table), prefixes)


def read_gold_table(
    gold: LakeStore, table: str, glue: Any, columns: Optional[Sequence[str]] = None
) -> Optional[pa.Table]:
    """The rows of ``table`` now; ``None`` when the catalog names no files."""
    return gold.read_files(current_keys(gold, table, glue), columns)
