"""The KPI ledger counts every change exactly once, however batches arrive.

Against the emulator, with synthetic stream records of one or two stream
shards: each example uses fresh shard ids, so its counter items are its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_records import EPOCH, TaskHistory

from todo_core import keys
from todo_core.attributes import from_item, to_item
from todo_core.kpi_changes import KpiChange, KpiDelta, kpi_change
from todo_core.kpi_ledger import MAX_TRANSACTION_ITEMS, CheckpointMoved, KpiLedger

STATUSES = ["pending", "completed", "cancelled", None]


def counts_of(ddb: Any, table_name: str, shard_ids: List[str]) -> Dict[str, int]:
    total = {"users": 0, "tasks": 0, "completed": 0}
    for shard_id in shard_ids:
        item = ddb.get_item(
            TableName=table_name, Key=to_item(keys.kpi_counter_key(shard_id)), ConsistentRead=True
        ).get("Item")
        data = from_item(item or {})
        for name in total:
            total[name] += int(data.get(name, 0))
    return total


def script_history(script: List[Any], first_sequence: int) -> TaskHistory:
    history = TaskHistory(first_sequence)
    for user, task, status, minutes in script:
        if status == "profile":
            history.profile(user)
        else:
            history.write(user, task, status, EPOCH + dt.timedelta(minutes=minutes))
    return history


scripts = st.lists(
    st.tuples(
        st.sampled_from(["ann", "bob"]),
        st.sampled_from(["t1", "t2"]),
        st.sampled_from([*STATUSES, "profile"]),
        st.integers(0, 600),
    ),
    min_size=1,
    max_size=16,
)


#: A delivery: how far before the furthest applied change it starts (a
#: re-delivery when > 0) and how many changes it holds.
deliveries = st.lists(st.tuples(st.integers(0, 6), st.integers(1, 8)), max_size=8)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts, deliveries)
def test_any_redelivery_of_batches_counts_each_change_once(
    ddb: Any, table_name: str, script: List[Any], schedule: List[Tuple[int, int]]
) -> None:
    """Batches as a mapping may send them: each starts at or before what was
    applied (retries, bisected halves, a crash after the commit re-delivering
    the whole batch) and ends anywhere after its start."""
    ledger = KpiLedger(ddb, table_name)
    shard = f"shardId-{uuid.uuid4()}"
    history = script_history(script, 10**21)
    changes = [kpi_change(r) for r in history.records]
    applied = 0
    # The schedule, then whatever is left in one last batch.
    for back, size in [*schedule, (0, len(changes))]:
        start = max(0, applied - back)
        end = min(len(changes), start + size)
        if start >= end:
            continue
        ledger.apply(shard, changes[start:end])
        applied = max(applied, end)
        # After every delivery: exactly the changes up to the furthest one
        # (the rules of one change are tested against ground truth in unit).
        prefix = functools.reduce(lambda a, c: a + c.delta, changes[:applied], KpiDelta())
        assert counts_of(ddb, table_name, [shard]) == prefix.as_dict()
    assert applied == len(changes)
    assert counts_of(ddb, table_name, [shard]) == history.counts()


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts, scripts)
def test_a_shard_split_counts_parent_and_child_once(
    ddb: Any, table_name: str, parent_script: List[Any], child_script: List[Any]
) -> None:
    """The child's sequence numbers may be lower than the parent's last one:
    each shard has its own checkpoint, so neither hides the other."""
    ledger = KpiLedger(ddb, table_name)
    parent, child = f"shardId-p-{uuid.uuid4()}", f"shardId-c-{uuid.uuid4()}"
    first = script_history(parent_script, 9 * 10**21)
    second = script_history(child_script, 10**21)  # lower than the parent's
    ledger.apply(parent, [kpi_change(r) for r in first.records])
    ledger.apply(child, [kpi_change(r) for r in second.records])
    ledger.apply(parent, [kpi_change(r) for r in first.records])  # a late re-delivery
    got = counts_of(ddb, table_name, [parent, child])
    want = {k: first.counts()[k] + second.counts()[k] for k in got}
    assert got == want


def test_a_batch_of_many_users_is_committed_in_transactions_that_fit(
    ddb: Any, table_name: str
) -> None:
    ledger = KpiLedger(ddb, table_name)
    shard = f"shardId-{uuid.uuid4()}"
    history = TaskHistory()
    users = [f"many-{n}-{uuid.uuid4()}" for n in range(3 * MAX_TRANSACTION_ITEMS)]
    for user in users:
        history.write(user, "t", "completed", EPOCH)
    changes = [kpi_change(r) for r in history.records]
    result = ledger.apply(shard, changes)
    assert result.transactions == 4  # 24 markers per transaction, plus the counter item
    assert counts_of(ddb, table_name, [shard]) == history.counts()
    # Every user got a marker of the day of the change.
    for user in users:
        marker = ddb.get_item(
            TableName=table_name, Key=to_item(keys.activity_key(EPOCH.date(), user))
        ).get("Item")
        assert marker is not None
    # The whole batch again: nothing is counted twice.
    assert ledger.apply(shard, changes).applied == 0
    assert counts_of(ddb, table_name, [shard]) == history.counts()


def test_a_checkpoint_moved_by_another_invocation_applies_nothing(
    ddb: Any, table_name: str
) -> None:
    ledger = KpiLedger(ddb, table_name)
    shard = f"shardId-{uuid.uuid4()}"
    history = TaskHistory()
    history.write("racer", "t", "pending", EPOCH)
    history.write("racer", "t", "completed", EPOCH)
    first, *later = (kpi_change(r) for r in history.records)

    class Stale(KpiLedger):
        def checkpoint(self, shard_id: str) -> Any:
            return None  # what it read before the other invocation committed

    ledger.apply(shard, [first])
    with pytest.raises(CheckpointMoved):
        Stale(ddb, table_name).apply(shard, [first, *later])
    assert counts_of(ddb, table_name, [shard]) == {"users": 0, "tasks": 1, "completed": 0}


def test_bookkeeping_only_batches_write_nothing(ddb: Any, table_name: str) -> None:
    """The ledger's own writes come back through the stream: they must not
    cause writes again, or the consumer would feed itself forever."""
    ledger = KpiLedger(ddb, table_name)
    history = TaskHistory()
    history.bookkeeping()
    history.bookkeeping()
    changes: List[KpiChange] = [kpi_change(r) for r in history.records]
    assert ledger.apply(f"shardId-{uuid.uuid4()}", changes).transactions == 0
