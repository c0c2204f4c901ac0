"""The Spark engine keeps silver's contracts: bad records quarantined and never
fatal, duplicates dropped within a run and across runs, a crash before the
manifest commit re-run without loss or doubling, one run at a time, a full
refresh, and the PII table in its own database."""

from __future__ import annotations

import json

import pytest
from silver_histories import BAD_LINES, history, put_bronze, request_log_lines
from silver_lakes import assert_same_silver, fresh_lake

from todo_core import lake as names
from todo_lake.lease import Lease
from todo_silver.manifest import Manifest

pytestmark = pytest.mark.integration


@pytest.fixture
def lake(local_stack, tmp_path):
    return fresh_lake(local_stack, str(tmp_path / "lake"))


def test_bad_records_are_quarantined_and_duplicates_dropped(lake, spark):
    log = [e for e in history(3, steps=10, extras=False) if e["entity_type"] == "task"]
    put_bronze(lake, [log, log[:3]], [0, 1], [*request_log_lines(5), b"{oops\n"])
    counts = lake.run_spark(spark)
    assert counts.events_quarantined == 2
    assert counts.events_valid == len(log) + 3
    assert counts.duplicates_dropped == 3
    assert counts.events_written == len(log)
    assert counts.requests_quarantined == 1
    quarantined = lake.quarantine()
    assert len(quarantined) == 3
    records = [json.loads(line) for body in quarantined.values() for line in body.splitlines()]
    assert sorted(r["record"] for r in records if r["record"].startswith('{"schema')) == sorted(
        line.decode().rstrip("\n") for line in BAD_LINES
    )
    assert {r["reason"].split(":")[0] for r in records} >= {"invalid JSON", "contract"}
    # Re-delivered again on the next run: nothing is written twice.
    put_bronze(lake, [log[2:6]], [], [], start=20)
    again = lake.run_spark(spark)
    assert (again.events_written, again.duplicates_dropped) == (0, 4)
    assert len(lake.rows(names.SILVER_TASK_EVENTS)) == len(log)


def test_a_crash_before_the_commit_is_rerun_to_the_same_end(
    lake, spark, monkeypatch, tmp_path, local_stack
):
    log = history(5, steps=10)
    put_bronze(lake, [log[:6], log[6:]], [], request_log_lines(3))

    def crash(*_args, **_kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(Manifest, "commit", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        lake.run_spark(spark)
    monkeypatch.undo()
    assert lake.processed() == []
    counts = lake.run_spark(spark)
    assert counts.events_written == 0  # written before the crash
    crashed = lake.state()

    clean = fresh_lake(local_stack, str(tmp_path / "clean"))
    put_bronze(clean, [log[:6], log[6:]], [], request_log_lines(3))
    clean.run_spark(spark)
    assert_same_silver(crashed, clean.state())


def test_a_run_finding_the_lease_held_touches_nothing(lake, spark):
    put_bronze(lake, [history(2, steps=4)], [], [])
    holder = Lease(lake.store(), "another-run", 600)
    holder.acquire()
    try:
        counts = lake.run_spark(spark)
    finally:
        holder.release()
    assert counts.events_read == 0
    assert lake.processed() == []


def test_full_refresh_rebuilds_and_users_stay_in_the_pii_database(lake, spark):
    log = history(8, steps=8)
    put_bronze(lake, [log], [0], [])
    lake.run_spark(spark)
    first = lake.state()
    counts = lake.run_spark(spark, full_refresh=True)
    assert counts.events_written == len([e for e in log if e["entity_type"] == "task"])
    assert_same_silver(lake.state(), first)
    users_catalog = first[names.SILVER_USERS]["catalog"]
    assert users_catalog[0]["email"] == "string"
    glue = lake.stack.client("glue")
    tables = {
        t["Name"] for t in glue.get_tables(DatabaseName=lake.names.glue_database)["TableList"]
    }
    assert names.SILVER_USERS not in tables
