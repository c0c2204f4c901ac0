"""The batch rules of the consumer, with a recording ledger (no AWS)."""

from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import pytest

from kpi_aggregator.consumer import NoShardInEvent, PoisonRecord, consume
from todo_core.kpi_changes import KpiChange, KpiDelta
from todo_core.kpi_ledger import Applied


class RecordingLedger:
    def __init__(self) -> None:
        self.calls: List[Tuple[str, List[str]]] = []

    def apply(self, shard_id: str, changes: Sequence[KpiChange]) -> Applied:
        self.calls.append((shard_id, [c.sequence_number for c in changes]))
        return Applied(len(changes), 0, 1, KpiDelta())


def task_insert(sequence: str) -> Any:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"PK": {"S": "TASK#u"}, "SK": {"S": "TASK#t" + sequence}},
            "NewImage": {"status": {"S": "pending"}, "updated_at": {"S": "2030-01-01T00:00:00Z"}},
            "SequenceNumber": sequence,
            "ApproximateCreationDateTime": 1,
        },
    }


def test_a_batch_is_applied_to_its_shard_in_order() -> None:
    ledger = RecordingLedger()
    event = {"shardId": "s-1", "Records": [task_insert("1"), task_insert("2")]}
    assert consume(ledger, event).applied == 2  # type: ignore[arg-type]
    assert ledger.calls == [("s-1", ["1", "2"])]


def test_a_poison_record_fails_the_batch_after_the_changes_before_it() -> None:
    ledger = RecordingLedger()
    bad = task_insert("2")
    del bad["dynamodb"]["NewImage"]
    event = {"shardId": "s-1", "Records": [task_insert("1"), bad, task_insert("3")]}
    with pytest.raises(PoisonRecord) as raised:
        consume(ledger, event)  # type: ignore[arg-type]
    assert ledger.calls == [("s-1", ["1"])]
    assert raised.value.sequence_number == "2"


def test_a_poison_record_without_a_sequence_number_is_still_poison() -> None:
    with pytest.raises(PoisonRecord) as raised:
        consume(RecordingLedger(), {"shardId": "s", "Records": [{"eventName": "INSERT"}]})  # type: ignore[arg-type]
    assert raised.value.sequence_number is None


@pytest.mark.parametrize("event", [{"Records": []}, {"shardId": "", "Records": []}])
def test_an_event_without_its_shard_is_refused(event: Any) -> None:
    with pytest.raises(NoShardInEvent):
        consume(RecordingLedger(), event)  # type: ignore[arg-type]
