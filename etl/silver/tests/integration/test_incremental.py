"""Incremental runs: the manifest, re-runs, new data, current state."""

import datetime as dt

import pytest

from tests.conftest import START_MS
from todo_lake.s3io import ObjectError
from todo_lake_testing import synthetic
from todo_silver.bronze import key_hour, open_source
from todo_silver.manifest import Manifest

pytestmark = pytest.mark.integration


def _snapshot(lake):
    return {
        "task_events": lake.rows("task_events", ("user_id", "task_id", "sequence_number")),
        "tasks": lake.rows("tasks", ("user_id", "task_id")),
        "users": lake.rows("users", ("user_id",)),
    }


def _within_lateness(objects, hours=48):
    """The documented window: objects filed at most ``hours`` before the newest."""
    newest = max(key_hour(k) for k in objects)
    return {k for k in objects if key_hour(k) >= newest - dt.timedelta(hours=hours)}


def test_rerun_changes_nothing_and_new_bronze_only_adds(lake):
    history = list(synthetic.workload(3, 4, 2, START_MS, delete_every=3))
    first, later = history[:30], history[30:]
    first_objects = lake.put_events(synthetic.split(first, 7))
    counts = lake.run()
    # The run is recorded: the manifest holds every object a later run can
    # list again (those filed within 48 hours of the newest), so it skips them.
    assert Manifest(lake.silver).processed() == _within_lateness(first_objects)
    assert counts.events_read == 30
    assert counts.events_quarantined == 0
    tasks_events = sum(1 for e in first if e["entity_type"] == "task")
    assert counts.events_written == tasks_events
    before = _snapshot(lake)

    again = lake.run()
    assert again.bronze_objects == 0
    assert again.events_written == 0
    assert _snapshot(lake) == before

    later_objects = lake.put_events(synthetic.split(later, 7), start_number=100)
    more = lake.run()
    assert more.events_written == sum(1 for e in later if e["entity_type"] == "task")
    assert Manifest(lake.silver).processed() == _within_lateness(first_objects + later_objects)
    after = _snapshot(lake)

    def event_key(row):
        return (row["user_id"], row["task_id"], row["sequence_number"])

    old_keys = {event_key(r) for r in before["task_events"]}
    new_keys = {event_key(r) for r in after["task_events"]}
    assert old_keys < new_keys
    # New bronze only adds: every event already in silver is unchanged.
    assert [r for r in after["task_events"] if event_key(r) in old_keys] == before["task_events"]
    assert len(new_keys) == sum(1 for e in history if e["entity_type"] == "task")

    # Current state: every task once, deletes as tombstones, latest version wins.
    expected = {}
    for event in history:
        if event["entity_type"] == "task":
            image = event["new_image"] or event["old_image"]
            expected[(image["user_id"], image["task_id"])] = (
                image["version"],
                event["event_name"] == "REMOVE",
            )
    got = {(r["user_id"], r["task_id"]): (r["version"], r["is_deleted"]) for r in after["tasks"]}
    assert got == expected
    assert {r["user_id"] for r in after["users"]} == {"user-000000", "user-000001", "user-000002"}


def test_duplicates_in_bronze_are_dropped_and_counted(lake):
    history = list(synthetic.workload(1, 3, 2, START_MS))
    lake.put_events([history, history[::2]])  # the second object re-delivers half
    counts = lake.run()
    task_events = sum(1 for e in history if e["entity_type"] == "task")
    assert counts.events_written == task_events
    assert counts.duplicates_dropped == sum(1 for e in history[::2] if e["entity_type"] == "task")
    assert len(lake.rows("task_events", ("sequence_number",))) == task_events


def test_a_redelivery_in_a_later_run_is_a_duplicate(lake):
    history = list(synthetic.workload(1, 2, 1, START_MS))
    lake.put_events([history])
    lake.run()
    lake.put_events([history[-2:]], start_number=50)
    counts = lake.run()
    assert counts.events_written == 0
    assert counts.duplicates_dropped == 2


def test_aws_layout_and_gzip_are_read_like_the_emulator_layout(lake):
    history = list(synthetic.workload(1, 2, 1, START_MS))
    lake.put_events(synthetic.split(history, 3), layout="aws")
    counts = lake.run()
    assert counts.events_read == len(history)
    assert counts.events_quarantined == 0


def test_full_refresh_rebuilds_the_same_tables(lake):
    lake.put_events(synthetic.split(list(synthetic.workload(2, 2, 2, START_MS)), 5))
    lake.run()
    before = _snapshot(lake)
    counts = lake.run(full_refresh=True)
    assert counts.bronze_objects > 0
    assert _snapshot(lake) == before


def test_small_chunks_give_the_same_result(lake):
    history = list(synthetic.workload(2, 3, 2, START_MS, delete_every=2))
    lake.put_events(synthetic.split(history, 4))
    lake.run(chunk_mb=1)
    one_chunk = _snapshot(lake)
    from todo_silver import bronze

    original = bronze.chunked
    try:
        # Force one object per chunk.
        import todo_silver.job as job

        job.chunked = lambda objects, size: ([o] for o in objects)
        lake.run(full_refresh=True)
    finally:
        job.chunked = original
    assert _snapshot(lake) == one_chunk


def test_bronze_objects_are_read_whole_and_a_vanished_one_fails_by_name(lake):
    body = b"".join(b'{"n": %d}\n' % i for i in range(2000))
    lake.put_raw("cdc/2025/01/01/00/whole", body)
    source = open_source(lake.bronze, lake.s3)
    assert source.read("cdc/2025/01/01/00/whole") == body
    with pytest.raises(ObjectError, match=r"GET s3://.*/cdc/2025/01/01/00/gone: HTTP 404"):
        source.read("cdc/2025/01/01/00/gone")


def test_changes_from_a_new_stream_win_by_version_across_runs(lake):
    """After a restore the new stream's sequence numbers are smaller: the
    state merged into silver is still the task's newest version."""
    import random

    rng = random.Random(4)
    old_stream = synthetic.EventFactory(first_sequence=10**20, rng=rng)
    new_stream = synthetic.EventFactory(first_sequence=10**3, rng=rng)
    task = synthetic.new_task("u1", "t1", START_MS, rng)
    second = synthetic.updated(task, {"title": "second"}, START_MS + 1000)
    third = synthetic.updated(second, {"title": "third"}, START_MS + 2000)
    lake.put_events(
        [
            [
                old_stream.task_insert(task, START_MS),
                old_stream.task_modify(task, second, START_MS + 1000),
            ]
        ]
    )
    lake.run()
    lake.put_events([[new_stream.task_modify(second, third, START_MS + 2000)]], start_number=10)
    lake.run()
    [row] = lake.rows("tasks", ("task_id",))
    assert (row["version"], row["title"]) == (3, "third")


def test_objects_filed_within_the_lateness_window_are_read_and_older_ones_are_not(lake):
    """The documented rule: an ordinary run lists bronze from the newest hour it
    has processed minus ``--LATENESS_HOURS``; a full refresh reads everything."""
    history = list(synthetic.workload(1, 4, 0, START_MS))
    day = 86_400_000
    [first, late_ok, late_too_late, newest] = [[e] for e in history if e["entity_type"] == "task"]
    stamp = lambda events, ms: [dict(e, approximate_creation_time=ms) for e in events]  # noqa: E731
    lake.put_events([stamp(first, START_MS)])
    lake.put_events([stamp(newest, START_MS + 10 * day)], start_number=1)
    lake.run(lateness_hours=48)
    lake.put_events([stamp(late_ok, START_MS + 9 * day)], start_number=2)
    lake.put_events([stamp(late_too_late, START_MS + 2 * day)], start_number=3)
    counts = lake.run(lateness_hours=48)
    assert counts.bronze_objects == 1
    assert counts.events_written == 1
    assert lake.run(full_refresh=True).events_written == 4
