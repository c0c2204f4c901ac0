"""One stream batch in, the KPI counters moved exactly once, a partial-batch response out.

The event must name its stream shard (``shardId``): a DynamoDB-stream event
does only when the mapping has a tumbling window (``TumblingWindowInSeconds``),
so the mapping is configured with one; its ``state`` is not used (the counts
live in the table, with the checkpoint), so the response's state is empty.

A record that cannot be read (a poison record) fails the invocation after
the changes before it are applied (:class:`PoisonRecord`). It is a function
error rather than a partial-batch failure on purpose: the mapping bisects
the batch (splitting does not use up retries) until the poison record is
alone, and parks only that record in the on-failure destination once its
retries are exhausted. A partial-batch failure would be retried together
with every record after it, and all of them parked with it.

Anything else that fails (throttling, a moved checkpoint) raises too: the
mapping retries or bisects the batch, and the ledger's checkpoint skips what
was already applied.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from todo_core.kpi_changes import KpiChange, UnreadableRecord, kpi_change
from todo_core.kpi_ledger import Applied, KpiLedger

#: The response with a tumbling window: a state (unused) and no failures.
RESPONSE: Dict[str, Any] = {"state": {}, "batchItemFailures": []}


class NoShardInEvent(ValueError):
    """The event names no stream shard: the mapping lacks its tumbling window."""


class PoisonRecord(ValueError):
    """A record the KPI rules cannot read; the changes before it were applied."""

    def __init__(self, sequence_number: Optional[str], reason: str, applied: Applied) -> None:
        super().__init__(f"unreadable stream record {sequence_number}: {reason}")
        self.sequence_number = sequence_number
        self.reason = reason
        self.applied = applied


def consume(ledger: KpiLedger, event: Mapping[str, Any]) -> Applied:
    """Apply the batch's changes; raises :class:`PoisonRecord` after its prefix."""
    shard_id = event.get("shardId")
    if not isinstance(shard_id, str) or not shard_id:
        raise NoShardInEvent(
            "the event has no shardId: give the event source mapping a tumbling window"
        )
    changes: List[KpiChange] = []
    for record in event.get("Records") or []:
        try:
            changes.append(kpi_change(record))
        except UnreadableRecord as exc:
            applied = ledger.apply(shard_id, changes)
            sequence = (record.get("dynamodb") or {}).get("SequenceNumber")
            raise PoisonRecord(
                sequence if isinstance(sequence, str) else None, str(exc), applied
            ) from exc
    return ledger.apply(shard_id, changes)
