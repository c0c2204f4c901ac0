"""End to end on the emulator: table writes -> stream -> local event source
mapping -> cdc_processor handler -> Firehose -> S3 bronze.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Dict, List, Tuple

import pytest
from workload import bronze_events, bronze_objects, run_workload

from todo_core import keys
from todo_core.attributes import plain_image
from todo_core.events import ChangeEvent, domain_image
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

pytestmark = pytest.mark.integration


def _scan(stack: LocalStack) -> Dict[Tuple[str, str], dict]:
    ddb = stack.client("dynamodb")
    items = {}
    for page in ddb.get_paginator("scan").paginate(TableName=stack.names.table):
        for item in page["Items"]:
            items[(item["PK"]["S"], item["SK"]["S"])] = item
    return items


def test_the_workload_lands_in_bronze_once_per_change_in_order_matching_the_table(
    fresh_stack: LocalStack,
) -> None:
    expected = run_workload(fresh_stack, users=3, tasks_per_user=4, seed=1)

    runner = StreamRunner.for_stack(fresh_stack, batch_size=25)
    runner.drain(60)
    events = bronze_events(fresh_stack)

    # Exactly one event per change: no duplicates without faults, nothing missing.
    assert len({e.dedup_key for e in events}) == len(events) == expected.total
    assert Counter((e.entity_type, e.event_name) for e in events) == expected.counts
    assert runner.on_failure == []
    assert runner.stats.failures == 0

    # Bookkeeping items (idempotency, counters, activity) never reach the lake.
    assert all(keys.entity_of(e.keys) is not None for e in events)

    # Per item, ordered by sequence number, the changes are the ones made, in order.
    by_item: Dict[Tuple[str, str], List[ChangeEvent]] = defaultdict(list)
    for event in events:
        by_item[(event.keys["PK"], event.keys["SK"])].append(event)
    assert set(by_item) == set(expected.changes)
    for item, item_events in by_item.items():
        item_events.sort(key=lambda e: int(e.sequence_number))
        observed = [
            (
                e.event_name,
                (e.new_image or {}).get("version")
                if e.entity_type == "task" and e.new_image
                else None,
            )
            for e in item_events
        ]
        assert observed == expected.changes[item], item
        # Each change's old image is the previous change's new image.
        for before, after in zip(item_events, item_events[1:]):
            assert after.old_image == before.new_image

    # The last image of every item is what the table holds now (or it is gone).
    table = _scan(fresh_stack)
    for item, item_events in by_item.items():
        last = item_events[-1]
        if last.event_name == "REMOVE":
            assert item not in table
        else:
            assert last.new_image == domain_image(plain_image(table[item])), item


def test_bronze_objects_follow_the_emulators_layout(fresh_stack: LocalStack) -> None:
    run_workload(fresh_stack, users=1, tasks_per_user=1, seed=2)

    StreamRunner.for_stack(fresh_stack).drain(30)

    objects = bronze_objects(fresh_stack)
    assert objects
    for key, text in objects.items():
        # moto: <prefix>YYYY/MM/DD/HH/<stream>-<version>-<timestamp>-<uuid>, uncompressed.
        assert re.fullmatch(r"cdc/\d{4}/\d{2}/\d{2}/\d{2}/todo-cdc-stream-local-\S+", key), key
        assert text.endswith("\n")
        assert all(line.startswith("{") for line in text.splitlines())
