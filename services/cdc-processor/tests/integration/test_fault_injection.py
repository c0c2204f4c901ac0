"""Firehose throttling and partial failures at a high rate: every change still
reaches bronze; the only duplicates are exact re-deliveries (same sequence
number, same bytes); nothing is dropped.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, List

import pytest
from workload import bronze_lines, run_workload, stream_domain_changes

from cdc_processor import handler
from todo_core.events import parse_json_line
from todo_local.faults import FirehoseFaults
from todo_local.stack import LocalStack
from todo_local.stream_runner import StreamRunner

pytestmark = pytest.mark.integration


def _assert_complete_and_exact(stack: LocalStack) -> Dict[str, List[str]]:
    lines_by_key: Dict[str, List[str]] = defaultdict(list)
    for line in bronze_lines(stack):
        lines_by_key[parse_json_line(line).dedup_key].append(line)
    expected = stream_domain_changes(stack)
    assert set(lines_by_key) == set(expected), "every domain change is in bronze, nothing else"
    for key, copies in lines_by_key.items():
        assert len(set(copies)) == 1, f"duplicates of {key} must be byte-identical re-deliveries"
    return lines_by_key


@pytest.mark.parametrize(
    ("attempts", "call_rate", "entry_rate", "seed"),
    [
        # The handler's own retries absorb most faults...
        ("6", 0.3, 0.3, 11),
        # ...and with no retry in the handler, the event source mapping re-delivers.
        ("1", 0.3, 0.3, 12),
    ],
    ids=["handler-retries", "mapping-redelivers"],
)
def test_every_change_reaches_bronze_under_firehose_faults(
    fresh_stack: LocalStack, attempts: str, call_rate: float, entry_rate: float, seed: int
) -> None:
    environment = {"FIREHOSE_MAX_ATTEMPTS": attempts, "FIREHOSE_BACKOFF_BASE_MS": "2"}
    with StreamRunner.for_stack(
        fresh_stack,
        batch_size=20,
        max_retries=40,
        retry_backoff=0.005,
        max_retry_backoff=0.02,
        poll_interval=0.05,
        environment=environment,
    ) as runner:
        faults = FirehoseFaults(
            call_failure_rate=call_rate, entry_failure_rate=entry_rate, seed=seed
        )
        faults.install(handler.firehose_client())
        try:
            expected = run_workload(fresh_stack, users=3, tasks_per_user=4, seed=seed)
            runner.drain(90)
        finally:
            faults.uninstall()

    lines_by_key = _assert_complete_and_exact(fresh_stack)
    assert len(lines_by_key) == expected.total
    assert faults.counts.throttled_calls > 0
    assert faults.counts.rejected_entries > 0
    assert runner.on_failure == [], "no record was given up on"
    if attempts == "1":
        assert runner.stats.partial_failures > 0, "the mapping had to re-deliver"
