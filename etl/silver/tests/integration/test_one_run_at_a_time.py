"""Two runs at once would both read-then-append the same task_events: a run
takes a lease on the silver bucket first (a conditional PUT), and a second run
exits cleanly, saying why, without touching silver."""

import json
import os
import subprocess
import sys
import threading

import pytest

from tests.conftest import START_MS
from todo_lake_testing import synthetic
from todo_local.stack import glue_job_arguments
from todo_silver.job import SilverJob
from todo_silver.manifest import Manifest

pytestmark = pytest.mark.integration


def test_a_second_run_exits_cleanly_while_the_first_holds_the_lease(lake, monkeypatch):
    history = list(synthetic.workload(2, 2, 1, START_MS))
    lake.put_events(synthetic.split(history, 4))
    inside, release = threading.Event(), threading.Event()
    real_commit = Manifest.commit

    def slow_commit(self, *args, **kwargs):
        inside.set()
        assert release.wait(60)
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(Manifest, "commit", slow_commit)
    first = threading.Thread(target=lambda: SilverJob(lake.settings()).run())
    first.start()
    try:
        assert inside.wait(120)
        # The second run, as Glue (or a person) would start it, while the first writes.
        result = subprocess.run(
            [sys.executable, "-m", "todo_silver.job", *glue_job_arguments(lake.stack.names)],
            capture_output=True,
            text=True,
            env=dict(os.environ, PUBLISH_METRICS="false"),
            timeout=120,
        )
    finally:
        release.set()
        first.join(120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    [skipped] = [
        r for r in lines if r["message"] == "silver run skipped: another run holds the lease"
    ]
    assert skipped["holder"]
    assert not [r for r in lines if r["message"] == "silver run complete"]
    events = lake.rows("task_events", ("user_id", "task_id", "sequence_number"))
    assert len(events) == sum(1 for e in history if e["entity_type"] == "task")
    # The lease is released: the next run runs.
    assert lake.run().bronze_objects == 0


def test_a_lease_left_by_a_crashed_run_expires(lake, monkeypatch):
    from todo_lake.lease import Lease

    lake.put_events([list(synthetic.workload(1, 1, 1, START_MS))])
    stale = Lease(lake.silver, "crashed-run", seconds=1)
    stale.acquire()
    stale.stop_renewing()  # the crashed run renews no more
    import time

    time.sleep(1.5)
    assert lake.run(lease_seconds=60).events_written == 2
