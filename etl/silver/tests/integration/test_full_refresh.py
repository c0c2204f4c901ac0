"""A full refresh interrupted at any point ends, after the next ordinary run,
where an uninterrupted refresh ends: silver is never left empty behind a
manifest that says everything was processed."""

import pytest

from tests.conftest import START_MS, empty_lake
from tests.faults import CrashingStore, SimulatedCrash
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration


def test_a_refresh_interrupted_anywhere_is_finished_by_the_next_run(lake, monkeypatch):
    history = list(synthetic.workload(2, 2, 1, START_MS, delete_every=2))
    lake.put_events(synthetic.split(history, 5))
    lake.run()
    expected = lake.state()
    assert expected["tasks"]
    assert expected["events"]

    counter = CrashingStore(monkeypatch, None)
    lake.run(full_refresh=True)
    monkeypatch.undo()
    steps = counter.steps
    assert lake.state() == expected

    for crash_at in range(steps):
        empty_lake(lake.stack)
        lake.put_events(synthetic.split(history, 5))
        lake.run()
        CrashingStore(monkeypatch, crash_at)
        with pytest.raises(SimulatedCrash):
            lake.run(full_refresh=True)
        monkeypatch.undo()
        lake.run()  # an ordinary run: it must finish the refresh
        assert lake.state() == expected, f"crash at step {crash_at} of {steps}"
