"""Gold's SQL on Spark: the engine the Glue Spark job hands to gold's run.

The gold SQL is written once, in DuckDB's dialect (``todo_gold/sql``); this
engine transpiles each statement to Spark SQL with sqlglot and runs it. What
is around the SQL is gold's own code, unchanged (:class:`todo_gold.job.GoldJob`):
the parameters, the PII HMACs (spelt in SQL, so the clear values never reach a
result), the collapse guard, and the writer (content-addressed Parquet, one
directory per version, the switch through the catalog, replaced files deleted
last). So a table computed here is byte for byte the file the DuckDB engine
writes for the same silver: switching engines between runs rewrites nothing.

* **Silver**: each table read by Spark where it is, ``s3://<silver
  bucket>/<table>/`` on Glue, under the ``file://`` lake root locally
  (:class:`todo_lake_spark.lake_root.LakeRoot`):
  only the columns gold reads (``todo_gold.engines.SILVER_COLUMNS``), with
  the types silver's schema gives them (a column no file has yet is NULL;
  partition values stay text).
* **Views**: ``live_tasks`` and ``live_users`` are cached once (three gold
  tables read them), as DuckDB materialises them.
* **Results**: the gold tables are aggregates (a row per user, day,
  category; one snapshot); each is collected to the driver as Arrow and
  written by gold's writer. ``user_analytics`` is the largest: a row per
  user, about 200 bytes, so the driver holds ~2 GB at 10 million users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Mapping, Optional

import pyarrow as pa

from todo_core import lake
from todo_gold import queries
from todo_gold.engines import SILVER_COLUMNS
from todo_gold.silver_reader import SilverReader
from todo_lake_spark.lake_root import LakeRoot

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SPARK_DIALECT", "SPARK_TYPES", "SparkEngine", "to_arrow"]

SPARK_DIALECT = "spark"
#: Spark's name for each type silver stores (``todo_lake.silver_schema``):
#: timestamps are naive UTC, Spark's TIMESTAMP_NTZ.
SPARK_TYPES: Dict[pa.DataType, str] = {
    pa.string(): "STRING",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us"): "TIMESTAMP_NTZ",
    pa.date32(): "DATE",
}


def spark_ddl(columns: Mapping[str, pa.DataType]) -> str:
    """A Spark schema string for ``{column: arrow type}`` (names back-quoted)."""
    return ", ".join(f"`{name}` {SPARK_TYPES[kind]}" for name, kind in columns.items())


def to_arrow(frame: DataFrame) -> pa.Table:
    """``frame``'s rows as an Arrow table, in order, every column nullable (as
    DuckDB's results are: the same rows then give the same Parquet bytes)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(frame.schema)
    schema = pa.schema([f.with_nullable(True) for f in schema])
    # DataFrame.toArrow is Spark 4's; Spark 3.5's toPandas uses this method.
    collect = getattr(frame, "toArrow", None)
    if collect is not None:
        table = collect()
    else:
        batches = frame._collect_as_arrow()
        table = pa.Table.from_batches(batches) if batches else schema.empty_table()
    return table.cast(schema)


class SparkEngine:
    """Gold's engine protocol (``todo_gold.job.GoldEngine``) on a SparkSession."""

    name = "spark"
    dialect = SPARK_DIALECT

    def __init__(self, spark: SparkSession, root: Optional[LakeRoot] = None) -> None:
        self.spark = spark
        #: Where silver is: S3 (Glue), or a local directory of buckets.
        self.root = root or LakeRoot()
        self.input_rows = 0
        self._cached: List[DataFrame] = []
        self._views: List[str] = []

    def table_parameters(self) -> Dict[str, str]:
        """Silver's users by the name the SQL uses (a temporary view here)."""
        return {"users_table": lake.SILVER_USERS}

    def _exists(self, url: str) -> bool:
        jvm = self.spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(url)
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        return bool(path.getFileSystem(conf).exists(path))

    def silver_table(self, bucket: str, table: str) -> DataFrame:
        """Silver ``table``: exactly gold's columns, typed; empty if it has no files yet."""
        columns = SILVER_COLUMNS[table]
        ddl = spark_ddl(columns)
        url = self.root.url(bucket, f"{table}/")
        if not self._exists(url):
            return self.spark.createDataFrame([], ddl)
        frame = (
            self.spark.read.schema(ddl)
            # Only data files: a writer's markers and checksums are not rows.
            .option("pathGlobFilter", "*.parquet")
            .parquet(url)
        )
        return frame.select(*[f"`{name}`" for name in columns])

    def prepare(self, silver: SilverReader, params: Dict[str, str]) -> Dict[str, int]:
        """Silver's tables and the current-state views; returns the silver row counts."""
        counted = None
        for table in SILVER_COLUMNS:
            frame = self.silver_table(silver.bucket, table)
            frame.createOrReplaceTempView(table)
            self._views.append(table)
            silver.files_read += len(frame.inputFiles())
            count = frame.groupBy().count().selectExpr(f"'{table}' AS name", "count")
            counted = count if counted is None else counted.unionByName(count)
        # One Spark job counts every table (each action costs a job's overhead).
        counts = {row["name"]: int(row["count"]) for row in counted.collect()} if counted else {}
        for view in queries.VIEWS:
            self.create_view(view, params)
        self.input_rows = sum(counts.values())
        return counts

    def create_view(self, view: str, params: Dict[str, str]) -> None:
        """A current-state view, cached: computed once, not once per reader."""
        body = queries.render(queries.load("views", view), params)
        frame = self.spark.sql(queries.to_dialect(body, self.dialect)).persist()
        self._cached.append(frame)
        frame.createOrReplaceTempView(view)
        self._views.append(view)

    def query(self, sql: str) -> pa.Table:
        return to_arrow(self.spark.sql(queries.to_dialect(sql, self.dialect)))

    def close(self) -> None:
        """Release the cached views (the session stays: the job's or the tests')."""
        for frame in self._cached:
            frame.unpersist()
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self._cached, self._views = [], []
