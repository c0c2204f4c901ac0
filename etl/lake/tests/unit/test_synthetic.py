"""The synthetic bronze must look exactly like what the CDC processor writes."""

import datetime as dt
import random

from todo_core import attributes, events, keys
from todo_core.models import Task
from todo_core.repository import task_to_item
from todo_lake_testing import synthetic


def test_task_images_match_the_repository_items():
    rng = random.Random(3)
    for i in range(50):
        created = 1735689600000 + i * 1000
        task = synthetic.new_task(
            f"u#{i}%",
            f"t-{i}",
            created,
            rng,
            status=rng.choice(synthetic.TASK_STATUSES),
            due_date="2025-02-01" if i % 2 else None,
        )
        task = {k: v for k, v in task.items() if v is not None}
        model = Task.model_validate({k: v for k, v in task.items() if k != "extra"})
        item = attributes.plain_image(task_to_item(model))
        expected = {k: v for k, v in item.items() if k not in keys.TABLE_SPEC.attributes}
        assert synthetic.task_image(task) == expected
        assert set(item) - set(expected) >= {keys.PK, keys.SK}


def test_generated_events_honour_the_contract():
    for event in synthetic.workload(2, 3, 2, 1735689600000, delete_every=2):
        parsed = events.parse_json_line(events.to_json_line(event))
        assert parsed.created_at >= dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
