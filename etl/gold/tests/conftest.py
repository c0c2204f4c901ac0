"""A fixed workload whose gold numbers are computed by hand, and helpers."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Dict, List

import boto3
import pytest

from todo_gold.job import GoldJob
from todo_gold.settings import GoldSettings
from todo_lake.store import LakeStore
from todo_lake_testing import synthetic
from todo_silver.job import SilverJob
from todo_silver.settings import SilverSettings

UTC = dt.timezone.utc
DAY1 = dt.datetime(2025, 3, 1, tzinfo=UTC)
AS_OF = dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def at(day: int, hour: int) -> int:
    return ms(DAY1 + dt.timedelta(days=day - 1, hours=hour))


def fixed_workload() -> List[Dict[str, Any]]:
    """Alice and Bob. See the expectations in the gold tests."""
    rng = random.Random(11)
    f = synthetic.EventFactory(rng=rng)
    alice = {
        "user_id": "u-alice",
        "email": "Alice@Example.com",
        "given_name": "Alice",
        "family_name": "A",
        "created_at": synthetic.iso(at(1, 9)),
        "last_seen_at": synthetic.iso(at(1, 9)),
    }
    bob = {
        "user_id": "u-bob",
        "email": "bob@example.com",
        "given_name": "Bob",
        "created_at": synthetic.iso(at(2, 7)),
        "last_seen_at": synthetic.iso(at(2, 7)),
    }
    out = [f.user_insert(alice, at(1, 9)), f.user_insert(bob, at(2, 7))]
    a1 = synthetic.new_task("u-alice", "a1", at(1, 10), rng, category="work")
    a1_done = synthetic.updated(a1, {"status": "completed"}, at(1, 12))
    a2 = synthetic.new_task("u-alice", "a2", at(1, 11), rng, category="home")
    a3 = synthetic.new_task("u-alice", "a3", at(2, 9), rng, category="work")
    b1 = synthetic.new_task("u-bob", "b1", at(2, 8), rng, category=None)
    b1_busy = synthetic.updated(b1, {"status": "in_progress"}, at(2, 9))
    b1_done = synthetic.updated(b1_busy, {"status": "completed"}, at(3, 9))
    out += [
        f.task_insert(a1, at(1, 10)),
        f.task_insert(a2, at(1, 11)),
        f.task_modify(a1, a1_done, at(1, 12)),
        f.task_insert(b1, at(2, 8)),
        f.task_insert(a3, at(2, 9)),
        f.task_modify(b1, b1_busy, at(2, 9)),
        f.task_remove(a3, at(2, 10)),
        f.task_modify(b1_busy, b1_done, at(3, 9)),
    ]
    return out


def empty_lake(stack: Any) -> None:
    """Delete every object of the lake buckets and every catalog table."""
    stack.empty_data_lake()


class Pipeline:
    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.names = stack.names

    def put(self, events: List[Dict[str, Any]], number: int = 0) -> None:
        synthetic.put_objects(
            boto3.client("s3"), self.names.bronze_bucket, [events], start_number=number
        )

    def silver(self) -> Any:
        return SilverJob(
            SilverSettings(
                bronze_bucket=self.names.bronze_bucket,
                silver_bucket=self.names.silver_bucket,
                database_name=self.names.glue_database,
                publish_metrics=False,
            )
        ).run()

    def gold_settings(self, **overrides: Any) -> GoldSettings:
        values: Dict[str, Any] = {
            "silver_bucket": self.names.silver_bucket,
            "gold_bucket": self.names.gold_bucket,
            "database_name": self.names.glue_database,
            "as_of": AS_OF,
            "stage": self.names.stage,
            "pii_hmac_secret_id": self.names.pii_hmac_secret,
            "publish_metrics": False,
        }
        values.update(overrides)
        return GoldSettings(**values)

    def gold(self, **overrides: Any) -> Any:
        return GoldJob(self.gold_settings(**overrides)).run()

    def pii_key(self) -> bytes:
        """The stage's PII HMAC key, as the emulator holds it."""
        from todo_lake.pii import hmac_key

        return hmac_key(self.names.pii_hmac_secret)

    def table(self, name: str, key: str) -> List[Dict[str, Any]]:
        data = LakeStore(self.names.gold_bucket, self.names.glue_database).read_table(name)
        return [] if data is None else sorted(data.to_pylist(), key=lambda r: str(r[key]))


@pytest.fixture
def pipeline(local_stack: Any) -> Pipeline:
    empty_lake(local_stack)
    return Pipeline(local_stack)
