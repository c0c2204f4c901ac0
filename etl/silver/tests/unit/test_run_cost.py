"""Runs stay cheap as history grows: what a run lists in bronze and loads from
its manifest is bounded by the lateness window, not by the age of the lake.
A year of simulated hourly bronze (an object a minute on two streams, about
a million keys a year) costs a daily run the same as a week does."""

import bisect
import datetime as dt
import io
from typing import Any, Dict, List

from todo_lake.store import LakeStore
from todo_silver.bronze import S3Source
from todo_silver.manifest import Manifest

PER_HOUR = 120  # 60-second Firehose buffering, two streams
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


class NoSuchKey(Exception):
    pass


class CountingS3:
    """An in-memory S3 bucket (sorted keys) that counts keys listed and bytes read."""

    class exceptions:
        NoSuchKey = NoSuchKey

    def __init__(self) -> None:
        self.keys: List[str] = []
        self.objects: Dict[str, bytes] = {}
        self.listed = 0
        self.read = 0

    def add(self, key: str, body: bytes = b"") -> None:
        if key not in self.objects:
            if not self.keys or key > self.keys[-1]:
                self.keys.append(key)  # bronze arrives in key order: cheap
            else:
                bisect.insort(self.keys, key)
        self.objects[key] = body

    def get_paginator(self, _name: str) -> Any:
        bucket = self

        class Paginator:
            def paginate(self, Bucket: str, Prefix: str, StartAfter: str = "") -> Any:
                i = bisect.bisect_right(bucket.keys, max(StartAfter, Prefix[:-1] if Prefix else ""))
                page: List[Dict[str, Any]] = []
                while i < len(bucket.keys) and bucket.keys[i] < Prefix + "\U0010ffff":
                    key = bucket.keys[i]
                    i += 1
                    if not key.startswith(Prefix):
                        continue
                    bucket.listed += 1
                    page.append({"Key": key, "Size": len(bucket.objects[key])})
                    if len(page) == 1000:
                        yield {"Contents": page}
                        page = []
                yield {"Contents": page}

        return Paginator()

    def get_object(self, Bucket: str, Key: str) -> Any:
        if Key not in self.objects:
            raise NoSuchKey(Key)
        self.read += len(self.objects[Key])
        return {"Body": io.BytesIO(self.objects[Key])}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> Any:
        self.add(Key, Body)
        return {"ETag": '"x"'}

    def delete_objects(self, Bucket: str, Delete: Dict[str, Any]) -> None:
        for item in Delete["Objects"]:
            if self.objects.pop(item["Key"], None) is not None:
                self.keys.remove(item["Key"])


def _simulate(days: int) -> Dict[str, int]:
    """Daily runs over ``days`` of hourly bronze; the last run's costs."""
    bronze, silver = CountingS3(), CountingS3()
    source = S3Source("bronze", bronze, http=object())
    manifest = Manifest(LakeStore("silver", "db", s3_client=silver))
    cost: Dict[str, int] = {}
    for day in range(days):
        for hour in range(24):
            moment = START + dt.timedelta(days=day, hours=hour)
            for n in range(PER_HOUR):
                bronze.add(f"cdc/{moment:%Y/%m/%d/%H}/todo-cdc-stream-{n:04d}")
        bronze.listed = silver.read = 0
        state = manifest.load(lateness_hours=48)
        todo = [o for o in source.list(since=state.since) if o.key not in state.processed]
        assert len(todo) == 24 * PER_HOUR  # exactly the new day, nothing lost
        manifest.commit(f"run-{day:04d}", state, [o.key for o in todo], {})
        cost = {
            "bronze_keys_listed": bronze.listed,
            "manifest_keys_loaded": len(state.processed),
            "manifest_bytes_read": silver.read,
            "manifest_objects": len(silver.keys),
        }
    return cost


def test_a_year_of_history_costs_a_run_what_a_week_does():
    week, year = _simulate(7), _simulate(365)
    assert week["bronze_keys_listed"] == year["bronze_keys_listed"]
    assert week["manifest_keys_loaded"] == year["manifest_keys_loaded"]
    assert abs(week["manifest_bytes_read"] - year["manifest_bytes_read"]) < 1000
    assert year["manifest_objects"] <= 2
