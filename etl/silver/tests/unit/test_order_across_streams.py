"""Sequence numbers order changes within one stream only: after a point-in-time
restore or a stream re-enable, newer changes carry smaller numbers. A task's
current state is its highest ``version``, then its highest sequence number,
in both transforms and across the run's reductions."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from todo_lake_testing import synthetic
from todo_silver.parse import parse_change_events
from todo_silver.sql_transform import latest_sql, task_state_sql
from todo_silver.staging import LatestRows
from todo_silver.transform import transform_events
from todo_silver.workspace import Workspace

START = 1735689600000
TASK_KEY = ("user_id", "task_id")


@st.composite
def two_stream_histories(draw):
    """Tasks whose changes went to an old stream (large sequence numbers) and,
    after a cut-over, to a new one (small numbers), delivered in any order."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    old_stream = synthetic.EventFactory(first_sequence=10**20, rng=rng)
    new_stream = synthetic.EventFactory(first_sequence=10**3, rng=rng)
    log, final = [], {}
    for t in range(draw(st.integers(1, 4))):
        clock = START + t
        task = synthetic.new_task("u1", f"t{t}", clock, rng)
        log.append(old_stream.task_insert(task, clock))
        cut = draw(st.integers(0, 4))
        for step in range(draw(st.integers(1, 5))):
            clock += 1000
            stream = old_stream if step < cut else new_stream
            after = synthetic.updated(task, {"title": f"v{task['version'] + 1}"}, clock)
            log.append(stream.task_modify(task, after, clock))
            task = after
        if draw(st.booleans()):
            log.append(new_stream.task_remove(task, clock + 1000))
            final[task["task_id"]] = (task["version"], True)
        else:
            final[task["task_id"]] = (task["version"], False)
    return draw(st.permutations(log)), final


def _events(log):
    return transform_events(parse_change_events(synthetic.encode(log)).table).events


@settings(max_examples=40, deadline=None)
@given(history=two_stream_histories(), pieces=st.integers(1, 4))
def test_the_highest_version_wins_across_streams(history, pieces):
    log, final = history
    latest = LatestRows(TASK_KEY)
    size = max(1, len(log) // pieces)
    for start in range(0, len(log), size):
        rows = transform_events(
            parse_change_events(synthetic.encode(log[start : start + size])).table
        )
        latest.add(rows.tasks)
    got = {r["task_id"]: (r["version"], r["is_deleted"]) for r in latest.result().to_pylist()}
    assert got == final

    events = _events(log)
    with Workspace(128) as ws:
        ws.register("events", events)
        by_sql = ws.query(latest_sql(f"({task_state_sql('events')})", TASK_KEY, versioned=True))
    assert {r["task_id"]: (r["version"], r["is_deleted"]) for r in by_sql.to_pylist()} == final
