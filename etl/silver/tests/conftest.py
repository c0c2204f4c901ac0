"""Shared helpers: a clean lake in the emulator and shortcuts to run silver."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import boto3
import pyarrow as pa
import pytest

from todo_lake.store import LakeStore
from todo_lake_testing import synthetic
from todo_silver.job import RunCounts, SilverJob
from todo_silver.settings import SilverSettings

START_MS = int(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)


@dataclass
class Lake:
    """The local stage's lake, emptied for one test."""

    stack: Any

    @property
    def bronze(self) -> str:
        return self.stack.names.bronze_bucket

    @property
    def database(self) -> str:
        return self.stack.names.glue_database

    @property
    def s3(self) -> Any:
        return boto3.client("s3")

    @property
    def silver(self) -> LakeStore:
        return LakeStore(self.stack.names.silver_bucket, self.database)

    def settings(self, **overrides: Any) -> SilverSettings:
        values: Dict[str, Any] = {
            "bronze_bucket": self.bronze,
            "silver_bucket": self.stack.names.silver_bucket,
            "database_name": self.database,
            "stage": "local",
            "publish_metrics": False,
        }
        values.update(overrides)
        return SilverSettings(**values)

    def put_events(
        self,
        groups: Sequence[Sequence[Dict[str, Any]]],
        layout: str = "emulator",
        start_number: int = 0,
    ) -> List[str]:
        return synthetic.put_objects(self.s3, self.bronze, groups, layout, start_number)

    def put_raw(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bronze, Key=key, Body=body)

    def run(self, **overrides: Any) -> RunCounts:
        return SilverJob(self.settings(**overrides)).run()

    def table(self, name: str) -> Optional[pa.Table]:
        return self.silver.read_table(name)

    def state(self) -> Dict[str, List[Dict[str, Any]]]:
        """Every row of silver's change tables, in key order (to compare runs)."""
        return {
            "events": self.rows("task_events", ("user_id", "task_id", "sequence_number")),
            "tasks": self.rows("tasks", ("user_id", "task_id")),
            "users": self.rows("users", ("user_id",)),
        }

    def rows(self, name: str, key: Sequence[str]) -> List[Dict[str, Any]]:
        table = self.table(name)
        if table is None:
            return []
        return sorted(table.to_pylist(), key=lambda r: tuple(str(r[k]) for k in key))


def empty_lake(stack: Any) -> None:
    """Delete every object of the lake buckets and every catalog table."""
    stack.empty_data_lake()


@pytest.fixture
def lake(local_stack: Any) -> Lake:
    empty_lake(local_stack)
    return Lake(local_stack)
