"""Where each gold table's current rows are: the catalog's locations.

Readers (Athena, ``todo-insights``) see exactly the files under the
locations the Glue catalog names: the table's location for an unpartitioned
table, each partition's location for a partitioned one. Gold writes every
new version of a table (or partition) into a directory of its own and then
points the catalog at it (:func:`switch_table_location`,
:func:`switch_partition_locations`), one catalog call each: a reader sees
the old version or the new one, never both, whatever the writer was doing
when it crashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

PartitionValues = Tuple[str, ...]

#: The keys of a ``GetTable`` answer that ``UpdateTable`` accepts back.
_TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "LastAccessTime",
    "LastAnalyzedTime",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
    "TargetTable",
)
_PARTITION_INPUT_KEYS = ("Values", "StorageDescriptor", "Parameters", "LastAccessTime")


@dataclass
class TableEntry:
    """What the catalog holds for one table."""

    columns: Dict[str, str]
    location: str
    partition_keys: List[str] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict)


def table_entries(database: str, glue: Any) -> Dict[str, TableEntry]:
    """Every table of ``database`` (columns with partition keys, location), one ``GetTables``."""
    found: Dict[str, TableEntry] = {}
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for entry in page["TableList"]:
            descriptor = entry.get("StorageDescriptor", {})
            keys = entry.get("PartitionKeys", [])
            columns = descriptor.get("Columns", []) + keys
            found[entry["Name"]] = TableEntry(
                columns={c["Name"]: c["Type"] for c in columns},
                location=descriptor.get("Location", ""),
                partition_keys=[k["Name"] for k in keys],
                raw=entry,
            )
    return found


def partition_entries(
    database: str, table: str, glue: Any
) -> Dict[PartitionValues, Dict[str, Any]]:
    """``{values: partition}`` of ``table`` (none for a missing table)."""
    found: Dict[PartitionValues, Dict[str, Any]] = {}
    try:
        for page in glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table
        ):
            for partition in page["Partitions"]:
                found[tuple(partition["Values"])] = partition
    except glue.exceptions.EntityNotFoundException:
        pass  # the table is created by this run
    return found


def partition_location(partition: Mapping[str, Any]) -> str:
    return str(partition.get("StorageDescriptor", {}).get("Location", ""))


def switch_table_location(database: str, table: str, location: str, glue: Any) -> None:
    """Point ``table`` at ``location`` in one ``UpdateTable`` (columns and the rest kept)."""
    current = glue.get_table(DatabaseName=database, Name=table)["Table"]
    if current.get("StorageDescriptor", {}).get("Location") == location:
        return
    table_input = {k: current[k] for k in _TABLE_INPUT_KEYS if k in current}
    table_input["StorageDescriptor"] = {**current["StorageDescriptor"], "Location": location}
    glue.update_table(DatabaseName=database, TableInput=table_input)


def switch_partition_locations(
    database: str,
    table: str,
    moves: Mapping[PartitionValues, str],
    known: Mapping[PartitionValues, Dict[str, Any]],
    glue: Any,
) -> None:
    """Point each existing partition of ``moves`` at its new location
    (``BatchUpdatePartition``, 100 per call; each partition switches atomically)."""
    entries = []
    for values, location in sorted(moves.items()):
        partition = known[values]
        if partition_location(partition) == location:
            continue
        partition_input = {k: partition[k] for k in _PARTITION_INPUT_KEYS if k in partition}
        partition_input["StorageDescriptor"] = {
            **partition.get("StorageDescriptor", {}),
            "Location": location,
        }
        entries.append({"PartitionValueList": list(values), "PartitionInput": partition_input})
    for start in range(0, len(entries), 100):
        answer = glue.batch_update_partition(
            DatabaseName=database, TableName=table, Entries=entries[start : start + 100]
        )
        if answer.get("Errors"):
            raise RuntimeError(f"catalog refused partition updates of {table}: {answer['Errors']}")


def key_prefix(location: str, bucket: str) -> str:
    """The key prefix of an ``s3://bucket/prefix/`` location in ``bucket``."""
    head = f"s3://{bucket}/"
    if not location.startswith(head):
        raise ValueError(f"{location!r} is not in bucket {bucket!r}")
    prefix = location[len(head) :]
    return prefix if prefix.endswith("/") or not prefix else prefix + "/"


def current_locations(
    database: str, table: str, glue: Any, entry: Optional[TableEntry] = None
) -> List[str]:
    """The locations whose files make up ``table`` now, as Athena reads it."""
    if entry is None:
        entry = table_entries(database, glue).get(table)
    if entry is None:
        return []
    if entry.partition_keys:
        return sorted(
            partition_location(p) for p in partition_entries(database, table, glue).values()
        )
    return [entry.location]


def keys_under(keys: Iterable[str], prefixes: Sequence[str]) -> List[str]:
    """The keys under any of ``prefixes`` (Athena reads a location's sub-directories too)."""
    return sorted(k for k in keys if any(k.startswith(p) for p in prefixes))
