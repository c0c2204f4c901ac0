"""Daily completions count tasks, not completion events."""

import random

import pytest

from tests.conftest import at
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration


def test_a_task_completed_reopened_and_completed_again_counts_once(pipeline):
    rng = random.Random(5)
    events = synthetic.EventFactory(rng=rng)
    created = synthetic.new_task("u-carol", "c1", at(1, 10), rng, category="work")
    done = synthetic.updated(created, {"status": "completed"}, at(1, 11))
    reopened = synthetic.updated(done, {"status": "pending"}, at(1, 12))
    done_again = synthetic.updated(reopened, {"status": "completed"}, at(1, 13))
    pipeline.put(
        [
            events.task_insert(created, at(1, 10)),
            events.task_modify(created, done, at(1, 11)),
            events.task_modify(done, reopened, at(1, 12)),
            events.task_modify(reopened, done_again, at(1, 13)),
        ]
    )
    pipeline.silver()
    pipeline.gold()

    [day] = pipeline.table("daily_task_metrics", "metric_date")
    assert day["tasks_created"] == 1
    assert day["tasks_completed"] == 1
    assert day["task_updates"] == 3
    assert day["completions_per_creation"] == 1.0
