"""The gold job on Glue Spark: gold's run with the Spark engine.

    python -m todo_lake_spark.gold_job --SILVER_BUCKET ... --GOLD_BUCKET ... \\
        --DATABASE_NAME ... [--LAKE_ROOT file:///abs/dir]

It takes the Python-shell gold job's arguments (``todo_gold.settings``);
``--ENGINE`` is ``spark`` (implied; any other value is refused). The run is
gold's own (:class:`todo_gold.job.GoldJob`): the same tables, partitions,
catalog entries and atomic switch, collapse guard and PII rules, and the
same log line and metrics (``engine: spark``). Only the SQL runs elsewhere
(:mod:`todo_lake_spark.gold_engine`).

``--LAKE_ROOT`` is where Spark reads silver (:mod:`todo_lake_spark.lake_root`):
S3 on Glue (no argument); locally a ``file://`` directory laid out like the
buckets, and then a local Spark is started
(``--SPARK_DRIVER_MEMORY``, default 1g). Gold's tables are written through
gold's writer to the S3 endpoint, as the Python-shell job writes them.
"""

from __future__ import annotations

import sys
from typing import List, Optional, Sequence

from todo_gold.job import GoldJob
from todo_gold.settings import GoldSettings
from todo_lake.args import parse_glue_args
from todo_lake.observability import run_logged
from todo_lake_spark.gold_engine import SparkEngine
from todo_lake_spark.lake_root import LakeRoot

__all__ = ["main", "settings_from_argv"]


def settings_from_argv(argv: Sequence[str]) -> GoldSettings:
    """Gold's settings with ``--ENGINE spark``; another engine is a configuration error."""
    engine = parse_glue_args(argv).get("ENGINE", "spark").lower()
    if engine != "spark":
        raise SystemExit(f"the Spark gold job runs --ENGINE spark, not {engine!r}")
    return GoldSettings.from_argv([*argv, "--ENGINE", "spark"])


def main(argv: Optional[Sequence[str]] = None) -> int:
    args: List[str] = list(sys.argv[1:] if argv is None else argv)
    settings = settings_from_argv(args)
    options = parse_glue_args(args)
    root = LakeRoot.parse(options.get("LAKE_ROOT"))

    def run() -> object:
        from todo_lake_spark.session import glue_session, local_session

        if root.directory is not None:
            spark = local_session(driver_memory=options.get("SPARK_DRIVER_MEMORY", "1g"))
        else:
            spark = glue_session()
        return GoldJob(settings, engine=SparkEngine(spark, root)).run()

    return run_logged("gold", run)


if __name__ == "__main__":
    sys.exit(main())
