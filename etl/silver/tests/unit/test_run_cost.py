"""Runs stay cheap as history grows: what a run lists in bronze and loads from
its manifest is bounded by the lateness window, not by the age of the lake.
A year of simulated hourly bronze (an object a minute on two streams, about
a million keys a year) costs a daily run the same as a week does."""

import datetime as dt
from typing import Dict

from tests.memory_s3 import CountingS3
from todo_lake.store import LakeStore
from todo_silver.bronze import S3Source
from todo_silver.manifest import Manifest

PER_HOUR = 120  # 60-second Firehose buffering, two streams
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


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
