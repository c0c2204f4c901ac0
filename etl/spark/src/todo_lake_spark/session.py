"""The SparkSession both jobs use, with the settings that make Spark's
Parquet and SQL match the rest of the lake (DuckDB, pyarrow, Athena).

On Glue, ``glue_session()`` takes the session Glue started and applies the
runtime settings; off Glue, ``local_session()`` starts a small local Spark
(the tests, the demo with ``ENGINE=spark``, the benchmarks).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Dict, Optional

from todo_lake_spark.java import java_home

if TYPE_CHECKING:  # pyspark is provided by Glue, and by the test environment
    from pyspark.sql import SparkSession

__all__ = ["LAKE_SQL_SETTINGS", "glue_session", "local_session"]

#: Runtime SQL settings every session gets (why each: the module's README).
LAKE_SQL_SETTINGS: Dict[str, str] = {
    # Silver stores naive UTC timestamps; pyarrow and DuckDB read NTZ as such.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Overwrite only the partitions written (static mode deletes all others).
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    # Partition values stay text, as the catalog's string partition keys are.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}


def _apply(spark: SparkSession) -> SparkSession:
    for key, value in LAKE_SQL_SETTINGS.items():
        spark.conf.set(key, value)
    return spark


def glue_session() -> SparkSession:
    """The session of the running Glue job, with the lake's settings."""
    from pyspark.sql import SparkSession

    return _apply(SparkSession.builder.getOrCreate())


def local_session(
    cores: int = 2, driver_memory: str = "1g", extra: Optional[Dict[str, str]] = None
) -> SparkSession:
    """A local Spark sized for a 2-core machine, started once per process.

    Static settings (driver memory, Java) take effect only when the JVM first
    starts; later calls return the running session with the lake's settings.
    """
    os.environ.setdefault("JAVA_HOME", java_home())
    # Python workers must run the interpreter running the job (UDF pickles).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("todo-lake")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.default.parallelism", str(cores))
        # No Hive: tables go to the Glue catalog through boto3 after the write
        # (locally Spark cannot reach it, and would create a Derby metastore).
        .config("spark.sql.catalogImplementation", "in-memory")
    )
    for key, value in (extra or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return _apply(spark)
