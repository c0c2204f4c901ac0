"""A crash before the manifest commit, or in the middle of a run, loses and
doubles nothing: the re-run ends exactly where an uninterrupted run ends."""

import pytest

from tests.conftest import START_MS, empty_lake
from tests.faults import CrashingSource, SimulatedCrash
from todo_lake.store import LakeStore
from todo_lake_testing import synthetic
from todo_silver.bronze import open_source
from todo_silver.job import SilverJob
from todo_silver.manifest import Manifest

pytestmark = pytest.mark.integration


def _clean_run_state(lake, history):
    lake.put_events(synthetic.split(history, 6))
    lake.run()
    return lake.state()


def _crash(*_args, **_kwargs):
    raise SimulatedCrash("power cut")


def test_crash_between_outputs_and_manifest_commit(lake, monkeypatch):
    history = list(synthetic.workload(2, 3, 2, START_MS, delete_every=2))
    expected = _clean_run_state(lake, history)
    lake.run(full_refresh=True)  # sanity: deterministic

    empty_lake(lake.stack)
    lake.put_events(synthetic.split(history, 6))
    # The manifest commit is the run's last step: every output is written.
    monkeypatch.setattr(Manifest, "commit", _crash)
    with pytest.raises(SimulatedCrash):
        lake.run()
    assert Manifest(lake.silver).processed() == set(), "no commit: nothing recorded"
    monkeypatch.undo()
    counts = lake.run()
    assert counts.events_written == 0  # all were written before the crash
    assert counts.duplicates_dropped == sum(1 for e in history if e["entity_type"] == "task")
    assert lake.state() == expected


def test_crash_after_the_first_chunk(lake, monkeypatch):
    history = list(synthetic.workload(2, 3, 2, START_MS, delete_every=2))
    expected = _clean_run_state(lake, history)

    empty_lake(lake.stack)
    lake.put_events(synthetic.split(history, 6))
    import todo_silver.job as job

    # One object per chunk; the second object's read kills the run.
    monkeypatch.setattr(job, "chunked", lambda objects, size: ([o] for o in objects))
    crashing = CrashingSource(open_source(lake.bronze, lake.s3), crash_at=1)
    with pytest.raises(SimulatedCrash, match="killed while reading"):
        SilverJob(lake.settings(), source=crashing).run()
    assert Manifest(lake.silver).processed() == set(), "no commit: nothing recorded"
    monkeypatch.undo()
    lake.run()
    assert lake.state() == expected


def test_crash_between_state_write_and_old_file_delete(lake, monkeypatch):
    """Two versions of a partition's rows may coexist; the next merge resolves them."""
    history = list(synthetic.workload(1, 3, 2, START_MS))
    lake.put_events([history[:5]])
    lake.run()
    expected_after = None
    lake.put_events([history[5:]], start_number=10)

    real_delete = LakeStore.delete_keys

    def no_delete(self, keys):
        keys = list(keys)
        if any(k.startswith("tasks/") for k in keys):
            raise SimulatedCrash("died before deleting the old state files")
        return real_delete(self, keys)

    monkeypatch.setattr(LakeStore, "delete_keys", no_delete)
    with pytest.raises(SimulatedCrash):
        lake.run()
    monkeypatch.undo()
    lake.run()
    tasks = lake.rows("tasks", ("user_id", "task_id"))
    assert len(tasks) == 3  # one row per task again
    final = {}
    for e in history:
        if e["entity_type"] == "task":
            final[e["new_image"]["task_id"]] = e["new_image"]["version"]
    assert {r["task_id"]: r["version"] for r in tasks} == final
    del expected_after
