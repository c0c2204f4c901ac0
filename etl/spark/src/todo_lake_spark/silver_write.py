"""Silver's tables written by Spark, by the lake's rules for a table's files.

:class:`todo_lake.store.LakeStore` keeps each table's one schema, registers
tables and partitions and rewrites older files when a column appears or
widens; here Spark writes the files and the store does everything else, in
the order its own ``write_partitions`` does it:

1. a schema change a crashed run left pending is finished first;
2. the table's schema, widened by the rows (:func:`todo_lake.drift.widen`),
   is recorded as pending *before* a file with it is written;
3. Spark writes the rows, conformed to that schema, as new files of their
   partitions (``append``: the files already there stay);
4. the schema is settled (older files rewritten to it) or the columns
   registered; the partitions written, and every partition the listing
   found files in, are registered.

Appends keep a run's rows whose key is new (:func:`append_new`); current
state is merged into its partitions (:func:`merge_state`): read, reduced
with the run's rows by silver's order, written as new files, and only then
are the old files deleted (a crash in between leaves two versions of some
rows, which the next merge, and any reader, resolves by the same order).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import pyarrow as pa

from todo_lake import drift
from todo_lake.silver_schema import ORDER_VERSIONED, state_order
from todo_lake.store import LakeStore
from todo_lake_spark.lake_root import LakeRoot
from todo_lake_spark.silver_sql import to_spark
from todo_lake_spark.silver_types import arrow_schema, same_type, spark_schema, spark_type
from todo_silver.sql_transform import latest_sql

__all__ = ["append_new", "conform", "merge_state", "read_files", "write_rows"]


def _col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def conform(frame: Any, target: pa.Schema, partition: str) -> Any:
    """``frame`` with exactly ``target``'s columns, in its order and types, and
    the partition column: :func:`todo_lake.drift.conform`, run by Spark on each
    batch when a column needs widening to text, a plain select otherwise."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    current = {f.name: f.type for f in arrow_schema(frame)}
    # A column without values has no type yet: it is left out (it reads as null).
    untyped = [
        n for n, kind in current.items() if pa.types.is_null(kind) and target.get_field_index(n) < 0
    ]
    if untyped:
        frame = frame.drop(*untyped)
        current = {n: kind for n, kind in current.items() if n not in untyped}
    extra = [n for n in current if n != partition and target.get_field_index(n) < 0]
    if extra:
        raise ValueError(f"columns {extra} are not in the table's schema")
    if all(f.name not in current or same_type(current[f.name], f.type) for f in target):
        # Cast to the target's own type too: lists that may hold nulls, as
        # every file of the table has them.
        columns = [
            (_col(f.name) if f.name in current else F.lit(None))
            .cast(spark_type(f.type))
            .alias(f.name)
            for f in target
        ]
        return frame.select(*columns, _col(partition))
    out = spark_schema(pa.schema([*target, pa.field(partition, pa.string())]))
    expected = to_arrow_schema(out)

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            table = pa.Table.from_batches([batch])
            values = table.column(partition)
            data = drift.conform(table.drop_columns([partition]), target).append_column(
                partition, values
            )
            yield from data.cast(expected).to_batches()

    return frame.mapInArrow(run, out)


def read_files(
    spark: Any, root: LakeRoot, store: LakeStore, table: str, keys: Sequence[str]
) -> Any:
    """The rows of some of a table's files (all have the table's settled schema),
    their partition column restored from the paths."""
    schema, pending = store.table_schema(table)
    assert schema is not None, f"{table}: no schema"
    assert not pending, f"{table}: read before its schema is settled"
    return (
        spark.read.schema(spark_schema(schema))
        .option("basePath", root.url(store.bucket, f"{table}/"))
        .parquet(*[root.url(store.bucket, k) for k in keys])
    )


def _prepare(store: LakeStore, table: str, partition: str) -> Optional[pa.Schema]:
    """Step 1: the table's schema, a pending change finished first."""
    schema, pending = store._writable_schema(table)
    if pending:
        assert schema is not None
        store._settle(table, partition, schema)
    return schema


def _widen(
    store: LakeStore, table: str, current: Optional[pa.Schema], frame: Any, partition: str
) -> pa.Schema:
    """Step 2: the schema once the frame's columns are in, recorded as pending if it changed."""
    data = pa.schema([f for f in arrow_schema(frame) if f.name != partition])
    target = drift.widen(current, data)
    if current is None or not target.equals(current):
        store._pend(table, target)
    return target


def write_rows(
    store: LakeStore,
    root: LakeRoot,
    table: str,
    partition: str,
    frame: Any,
    listed: Mapping[str, Sequence[str]],
    current: Optional[pa.Schema] = None,
    prepared: bool = False,
) -> int:
    """Append ``frame``'s rows to ``table`` as new files of their partitions
    (steps 2-4 above; step 1 too unless ``prepared``); returns the rows written.

    ``listed``: the table's files by partition value before the run wrote
    (:meth:`LakeStore.partition_files`), whose partitions are registered too.
    """
    from pyspark import StorageLevel

    if not prepared:
        current = _prepare(store, table, partition)
    frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = {r[0]: r[1] for r in frame.groupBy(_col(partition)).count().collect()}
        rows = sum(counts.values())
        if rows:
            target = _widen(store, table, current, frame, partition)
            conform(frame, target, partition).write.mode("append").partitionBy(partition).parquet(
                root.url(store.bucket, f"{table}/")
            )
    finally:
        frame.unpersist()
    final, pending = store.table_schema(table)
    if pending:
        assert final is not None
        before = {k for keys in listed.values() for k in keys}
        written = {
            k: final
            for keys in store.partition_files(table, partition).values()
            for k in keys
            if k not in before
        }
        store._settle(table, partition, final, written)
    elif rows and final is not None:
        store._register(table, final, [partition])
    paths: Dict[str, List[str]] = {
        f"{store.table_path(table)}{partition}={value}/": [value]
        for value, n in counts.items()
        if n
    }
    for value, keys in listed.items():
        if keys:
            paths.setdefault(f"{store.table_path(table)}{partition}={value}/", [value])
    if paths:
        if store._catalog_types(table) is None and final is not None:
            # Files, but no table: the run that wrote them died before registering it.
            store._register(table, final, [partition])
        store._register_partitions(table, paths)
    return rows


def _values(frame: Any, partition: str) -> List[str]:
    return [r[0] for r in frame.select(_col(partition)).distinct().collect()]


def append_new(
    spark: Any,
    root: LakeRoot,
    store: LakeStore,
    table: str,
    partition: str,
    rows: Any,
    key: Tuple[str, ...],
    order: Sequence[str],
) -> int:
    """Append the rows whose key is new: once per run (the first by ``order``,
    nulls last), and not already in the partition they go to (re-deliveries,
    re-runs after a crash before the manifest commit). Columns in ``order``
    that the table does not hold (the run's ordinals) start with ``_``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    listing = store.partition_files(table, partition)
    current = _prepare(store, table, partition)
    window = Window.partitionBy(*[_col(k) for k in key]).orderBy(
        *[_col(c).asc_nulls_last() for c in order]
    )
    first = rows.withColumn("_first", F.row_number().over(window)).filter("_first = 1")
    first = first.drop("_first", *[c for c in order if c.startswith("_")])
    existing = [k for value in _values(rows, partition) for k in listing.get(value, [])]
    if existing:
        known = (
            read_files(spark, root, store, table, existing)
            .select(*[_col(k) for k in key])
            .distinct()
        )
        condition = [first[k].eqNullSafe(known[k]) for k in key]
        first = first.join(known, on=condition, how="left_anti")
    return write_rows(store, root, table, partition, first, listing, current, prepared=True)


def merge_state(
    spark: Any,
    root: LakeRoot,
    store: LakeStore,
    table: str,
    partition: str,
    latest: Any,
    key: Tuple[str, ...],
) -> int:
    """Fold the run's latest rows into their partitions of ``table``: the
    partitions' files and the rows reduced by silver's order
    (:func:`todo_silver.sql_transform.latest_sql`), written as new files, then
    the old files deleted. Returns the run's rows (the state rows it changed)."""
    from pyspark import StorageLevel

    latest = latest.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = {r[0]: r[1] for r in latest.groupBy(_col(partition)).count().collect()}
        if not counts:
            return 0
        listing = store.partition_files(table, partition)
        current = _prepare(store, table, partition)
        old = [k for value in counts for k in listing.get(value, [])]
        rows = latest
        if old:
            data = pa.schema([f for f in arrow_schema(latest) if f.name != partition])
            target = drift.widen(current, data)
            combined = conform(latest, target, partition).unionByName(
                conform(read_files(spark, root, store, table, old), target, partition)
            )
            view = f"silver_{table}_merge"
            combined.createOrReplaceTempView(view)
            versioned = state_order(combined.columns) == ORDER_VERSIONED
            rows = spark.sql(to_spark(latest_sql(view, key, versioned), {view: combined.columns}))
        write_rows(store, root, table, partition, rows, listing, current, prepared=True)
    finally:
        latest.unpersist()
    store.delete_keys(old)
    return sum(counts.values())
