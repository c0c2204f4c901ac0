"""What the gold tests on Spark share: silver built by the Python-shell silver
job in the emulator, mirrored into a local lake root for Spark, and gold run
on either engine; gold read back as Athena reads it (through the catalog)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
import shutil
from typing import Any, Dict, List, Optional, Sequence, Tuple

import boto3
import pyarrow.parquet as pq
from hypothesis import strategies as st

from todo_core import lake
from todo_gold.job import GoldJob, GoldResult
from todo_gold.settings import GoldSettings
from todo_lake_spark.gold_engine import SparkEngine
from todo_lake_spark.gold_lake import mirror_bucket
from todo_lake_spark.lake_root import LakeRoot
from todo_lake_testing import synthetic
from todo_silver.job import SilverJob
from todo_silver.settings import SilverSettings

UTC = dt.timezone.utc
AS_OF = dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


START_MS = int((AS_OF - dt.timedelta(days=40)).timestamp() * 1000)
#: Up to a few hours past as_of: changes the windows must leave out.
SPAN_MS = 41 * 86_400_000


@st.composite
def event_logs(draw):
    """Users signing up, and their tasks created, changed and deleted, in time order."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    factory = synthetic.EventFactory(rng=rng)
    users = draw(st.integers(1, 3))
    times = sorted(draw(st.lists(st.integers(0, SPAN_MS), min_size=users + 1, max_size=25)))
    log, tasks, profiles = [], {}, set()
    for number, offset in enumerate(times):
        clock = START_MS + offset
        user_id = f"user-{draw(st.integers(0, users - 1))}"
        if user_id not in profiles and draw(st.booleans()):
            profile = {
                "user_id": user_id,
                "email": draw(
                    st.sampled_from([f" {user_id.upper()}@Example.COM", f"{user_id}@x.io"])
                ),
                "given_name": draw(st.sampled_from(["Ann", "José", None])),
                "family_name": draw(st.sampled_from(["Ö", None])),
                "created_at": synthetic.iso(clock),
                "last_seen_at": synthetic.iso(clock),
            }
            log.append(factory.user_insert(profile, clock))
            profiles.add(user_id)
            continue
        mine = [key for key in tasks if key[0] == user_id]
        action = (
            draw(st.sampled_from(["create", "modify", "modify", "remove"])) if mine else "create"
        )
        if action == "create":
            task = synthetic.new_task(
                user_id,
                f"task-{number}",
                clock,
                rng,
                category=draw(st.sampled_from(["work", "home", None])),
                status=draw(st.sampled_from(["pending", "completed"])),
            )
            log.append(factory.task_insert(task, clock))
            tasks[(user_id, task["task_id"])] = task
            continue
        key = draw(st.sampled_from(sorted(mine)))
        before = tasks[key]
        if action == "modify":
            after = synthetic.updated(
                before, {"status": draw(st.sampled_from(synthetic.TASK_STATUSES))}, clock
            )
            log.append(factory.task_modify(before, after, clock))
            tasks[key] = after
        else:
            log.append(factory.task_remove(before, clock))
            del tasks[key]
    return log


def directory_of(root: LakeRoot) -> str:
    assert root.directory is not None
    return root.directory


class GoldLake:
    """The emulator's lake, a local mirror of its silver, and gold on either engine."""

    def __init__(self, stack: Any, spark: Any, directory: str) -> None:
        self.stack = stack
        self.names = stack.names
        self.spark = spark
        #: Silver mirrored for Spark (``--LAKE_ROOT``): a directory of buckets.
        self.root = f"file://{directory}"
        self.lake_root = LakeRoot.parse(self.root)

    def empty(self) -> None:
        self.stack.empty_data_lake()

    def clear_root(self) -> None:
        """Empty the local lake root (what Spark reads and writes locally)."""
        shutil.rmtree(directory_of(self.lake_root), ignore_errors=True)

    def put(self, events: Sequence[Dict[str, Any]], number: int = 0) -> None:
        synthetic.put_objects(
            boto3.client("s3"), self.names.bronze_bucket, [list(events)], start_number=number
        )

    def silver(self) -> None:
        """Bronze -> silver by the Python-shell job, then silver mirrored for Spark."""
        SilverJob(
            SilverSettings(
                bronze_bucket=self.names.bronze_bucket,
                silver_bucket=self.names.silver_bucket,
                database_name=self.names.glue_database,
                publish_metrics=False,
            )
        ).run()
        self.mirror_silver()

    def mirror_silver(self) -> None:
        mirror_bucket(boto3.client("s3"), self.names.silver_bucket, self.lake_root)

    def settings(self, engine: str, **overrides: Any) -> GoldSettings:
        values: Dict[str, Any] = {
            "silver_bucket": self.names.silver_bucket,
            "gold_bucket": self.names.gold_bucket,
            "database_name": self.names.glue_database,
            "as_of": AS_OF,
            "stage": self.names.stage,
            "pii_hmac_secret_id": self.names.pii_hmac_secret,
            "publish_metrics": False,
            "engine": engine,
        }
        values.update(overrides)
        return GoldSettings(**values)

    def gold(self, engine: str, **overrides: Any) -> GoldResult:
        settings = self.settings(engine, **overrides)
        if engine == "spark":
            return GoldJob(settings, engine=SparkEngine(self.spark, self.lake_root)).run()
        return GoldJob(settings).run()

    def empty_gold(self) -> None:
        s3, glue = boto3.client("s3"), boto3.client("glue")
        bucket = self.names.gold_bucket
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        for table in lake.GOLD_TABLES:
            with contextlib.suppress(glue.exceptions.EntityNotFoundException):
                glue.delete_table(DatabaseName=self.names.glue_database, Name=table)

    def gold_state(self) -> GoldState:
        return GoldState.read(self.names.gold_bucket, self.names.glue_database)


class GoldState:
    """Gold as readers find it: the catalog's entries, the bucket's keys, and
    each table's rows read through the catalog's locations (as Athena does)."""

    def __init__(
        self,
        catalog: Dict[str, Tuple[Any, ...]],
        keys: List[str],
        rows: Dict[str, List[Dict[str, Any]]],
    ) -> None:
        self.catalog = catalog
        self.keys = keys
        self.rows = rows

    @classmethod
    def read(cls, bucket: str, database: str) -> GoldState:
        s3, glue = boto3.client("s3"), boto3.client("glue")
        keys = sorted(
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        )
        catalog: Dict[str, Tuple[Any, ...]] = {}
        rows: Dict[str, List[Dict[str, Any]]] = {}
        for table in lake.GOLD_TABLES:
            try:
                entry = glue.get_table(DatabaseName=database, Name=table)["Table"]
            except glue.exceptions.EntityNotFoundException:
                continue
            descriptor = entry["StorageDescriptor"]
            partition_keys = [k["Name"] for k in entry.get("PartitionKeys", [])]
            sources: List[Tuple[str, Dict[str, str]]] = []
            if partition_keys:
                partitions = sorted(
                    (tuple(p["Values"]), p["StorageDescriptor"]["Location"])
                    for page in glue.get_paginator("get_partitions").paginate(
                        DatabaseName=database, TableName=table
                    )
                    for p in page["Partitions"]
                )
                sources = [(loc, dict(zip(partition_keys, v))) for v, loc in partitions]
            else:
                partitions = []
                sources = [(descriptor["Location"], {})]
            catalog[table] = (
                tuple((c["Name"], c["Type"]) for c in descriptor["Columns"]),
                tuple((k["Name"], k["Type"]) for k in entry.get("PartitionKeys", [])),
                None if partition_keys else descriptor["Location"],
                tuple(partitions),
            )
            found: List[Dict[str, Any]] = []
            for location, values in sources:
                prefix = location.replace(f"s3://{bucket}/", "")
                for key in keys:
                    if key.startswith(prefix) and key.endswith(".parquet"):
                        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                        found += [
                            {**r, **values} for r in pq.read_table(io.BytesIO(body)).to_pylist()
                        ]
            rows[table] = found
        return cls(catalog, keys, rows)

    def table(self, name: str) -> List[Dict[str, Any]]:
        return self.rows.get(name, [])

    def only(self, name: str) -> Optional[Dict[str, Any]]:
        rows = self.table(name)
        return rows[0] if rows else None
