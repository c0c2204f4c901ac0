"""Sequence numbers order changes within one stream only: after a point-in-time
restore or a stream re-enable, newer changes carry smaller numbers. A task's
or a user profile's current state is its highest ``version``, then its
highest sequence number, in both transforms and across the run's reductions."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from todo_lake_testing import synthetic
from todo_silver.parse import parse_change_events
from todo_silver.sql_transform import latest_sql, task_state_sql
from todo_silver.staging import LatestRows
from todo_silver.transform import SilverRows, transform_declined, transform_events
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


USER_KEY = ("user_id",)


def _profile(version, email, at_ms):
    profile = {
        "user_id": "u1",
        "email": email,
        "created_at": synthetic.iso(START),
        "last_seen_at": synthetic.iso(at_ms),
    }
    if version is not None:
        profile["version"] = version
    return profile


def _user_states(log):
    """Latest user rows: by Arrow over pieces of the log (the run's reductions),
    and by the SQL over all of it."""
    latest = LatestRows(USER_KEY)
    for event in log:
        latest.add(transform_events(parse_change_events(synthetic.encode([event])).table).users)
    by_arrow = {r["user_id"]: (r["version"], r["email"]) for r in latest.result().to_pylist()}
    table = parse_change_events(synthetic.encode(log)).table
    with Workspace(128) as ws:
        (by_sql,) = transform_declined(ws, [SilverRows(declined_users=table)])
    return by_arrow, {r["user_id"]: (r["version"], r["email"]) for r in by_sql.users.to_pylist()}


@settings(max_examples=20, deadline=None)
@given(order=st.permutations(range(3)))
def test_a_newer_user_version_from_a_second_stream_wins_over_higher_sequence_numbers(order):
    old_stream = synthetic.EventFactory(first_sequence=10**20)
    new_stream = synthetic.EventFactory(first_sequence=10**3)  # the restored table's
    v1, v2, v3 = (_profile(v, f"v{v}@example.com", START + v) for v in (1, 2, 3))
    log = [
        old_stream.user_insert(v1, START + 1),
        old_stream.user_modify(v1, v2, START + 2),
        new_stream.user_modify(v2, v3, START + 3),
    ]
    by_arrow, by_sql = _user_states([log[i] for i in order])
    assert by_arrow == by_sql == {"u1": (3, "v3@example.com")}


def test_a_user_change_without_a_version_ranks_below_every_versioned_one():
    """Profiles written before users had versions: missing counts as 0."""
    old_stream = synthetic.EventFactory(first_sequence=10**20)
    new_stream = synthetic.EventFactory(first_sequence=10**3)
    unversioned = _profile(None, "old@example.com", START + 1)
    first = _profile(1, "new@example.com", START + 2)
    log = [old_stream.user_insert(unversioned, START + 1)]
    log.append(new_stream.user_modify(unversioned, first, START + 2))
    by_arrow, by_sql = _user_states(log)
    assert by_arrow == by_sql == {"u1": (1, "new@example.com")}
    # Two unversioned changes of one stream: the sequence number decides, as before.
    later = _profile(None, "later@example.com", START + 3)
    log = [old_stream.user_insert(unversioned, START + 1)]
    log.append(old_stream.user_modify(unversioned, later, START + 3))
    by_arrow, by_sql = _user_states(log[::-1])
    assert by_arrow == by_sql == {"u1": (None, "later@example.com")}
