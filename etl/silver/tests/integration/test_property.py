"""For any event log, any duplication and reordering of its events in bronze
(across objects and across runs) gives the silver ``tasks`` state that
applying the log once, in order, gives."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import START_MS, Lake, empty_lake
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration


@st.composite
def bronze_arrangements(draw):
    rng = random.Random(draw(st.integers(0, 10**6)))
    factory = synthetic.EventFactory(rng=rng)
    tasks = {}
    log = []
    clock = START_MS
    for step in draw(
        st.lists(
            st.tuples(st.integers(0, 2), st.sampled_from(["modify", "remove"])),
            min_size=1,
            max_size=10,
        )
    ):
        index, action = step
        clock += draw(st.integers(1, 3_600_000))
        task = tasks.get(index)
        if task is None:
            task = synthetic.new_task(f"user-{index % 2}", f"task-{index}-{len(log)}", clock, rng)
            log.append(factory.task_insert(task, clock))
            tasks[index] = task
        elif action == "modify":
            after = synthetic.updated(
                task,
                {"status": rng.choice(synthetic.TASK_STATUSES), "title": f"v{task['version'] + 1}"},
                clock,
            )
            log.append(factory.task_modify(task, after, clock))
            tasks[index] = after
        else:
            log.append(factory.task_remove(task, clock))
            del tasks[index]
    copies = draw(st.lists(st.sampled_from(range(len(log))), max_size=len(log)))
    delivered = draw(st.permutations(log + [log[i] for i in copies]))
    cuts = sorted(
        draw(st.lists(st.integers(1, max(1, len(delivered) - 1)), max_size=3, unique=True))
    )
    objects, start = [], 0
    for cut in [*cuts, len(delivered)]:
        if cut > start:
            objects.append(delivered[start:cut])
            start = cut
    first_run = draw(st.integers(0, len(objects)))
    return log, objects[:first_run], objects[first_run:]


def _apply_in_order(log):
    state = {}
    for event in log:
        image = event["new_image"] or event["old_image"]
        key = (image["user_id"], image["task_id"])
        if event["event_name"] == "REMOVE":
            state.pop(key, None)
        else:
            state[key] = (image["version"], image["title"], image["status"])
    return state


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(arrangement=bronze_arrangements())
def test_silver_tasks_equal_the_log_applied_once_in_order(local_stack, arrangement):
    log, first, second = arrangement
    empty_lake(local_stack)
    lake = Lake(local_stack)
    if first:
        lake.put_events(first)
        lake.run()
    if second:
        lake.put_events(second, start_number=100)
        lake.run()
    got = {
        (r["user_id"], r["task_id"]): (r["version"], r["title"], r["status"])
        for r in lake.rows("tasks", ("user_id", "task_id"))
        if not r["is_deleted"]
    }
    assert got == _apply_in_order(log)
    events_rows = lake.rows("task_events", ("sequence_number",))
    assert len(events_rows) == len({e["sequence_number"] for e in log})
