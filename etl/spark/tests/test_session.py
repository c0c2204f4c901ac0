"""The local Spark starts on Java 17 and writes Parquet that the lake reads as silver's own."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq

from todo_lake_spark.java import java_home, java_major


def test_java_home_is_a_java_spark_runs_on():
    assert java_major(java_home()) in (17, 11)


def test_java_major_reads_old_and_new_version_strings(tmp_path):
    (tmp_path / "release").write_text('JAVA_VERSION="1.8.0_402"\n')
    assert java_major(str(tmp_path)) == 8
    (tmp_path / "release").write_text('JAVA_VERSION="25.0.1"\n')
    assert java_major(str(tmp_path)) == 25
    assert java_major(str(tmp_path / "missing")) is None


def test_timestamps_are_naive_utc_and_partitions_stay_text(spark, tmp_path):
    frame = spark.createDataFrame(
        [(dt.datetime(2025, 3, 1, 23, 30), "2025-03-01")],
        "event_time timestamp_ntz, event_date string",
    )
    frame.write.partitionBy("event_date").parquet(f"file://{tmp_path}/t")
    table = pq.read_table(next((tmp_path / "t" / "event_date=2025-03-01").glob("*.parquet")))
    field = table.schema.field("event_time")
    assert str(field.type) == "timestamp[us]"  # no time zone: read as silver's naive UTC
    assert table.column("event_time")[0].as_py() == dt.datetime(2025, 3, 1, 23, 30)
    back = spark.read.parquet(f"file://{tmp_path}/t")
    assert dict(back.dtypes)["event_date"] == "string"
