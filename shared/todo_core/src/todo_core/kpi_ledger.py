"""The KPI counters, kept from the table's change stream, exactly once.

A consumer of the stream hands :meth:`KpiLedger.apply` the changes of one
batch (one stream shard, in stream order). Each transaction it commits holds

* the shard's counter item (:func:`todo_core.keys.kpi_counter_key`): the
  batch's deltas added, and the shard's checkpoint (the last applied
  sequence number) moved forward, on the condition that the checkpoint is
  still the one read at the start; and
* the activity markers of the users the changes made active.

So a change is counted if and only if the checkpoint moved past it:

* a re-delivered batch (a retry, a bisected half, a crash after the commit
  but before the mapping acknowledged) finds its changes at or before the
  checkpoint and skips them;
* a failed transaction applies nothing and moves nothing;
* a resharded stream gives the child shard its own item and checkpoint
  (sequence numbers compare only within one shard);
* no two invocations ever write the same counter item: a shard is processed
  by one invocation at a time, and each shard has its own item.

A batch with more users than one transaction can hold is committed in
several transactions, each with its own checkpoint, in order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from todo_core import keys
from todo_core.attributes import from_item, to_attribute, to_item
from todo_core.dynamodb import Table, iso
from todo_core.errors import TodoError
from todo_core.kpi_changes import KpiChange, KpiDelta
from todo_core.models import utc_now

#: Actions in one TransactWriteItems. DynamoDB allows 100; the local emulator
#: 25. 25 works on both, and costs the same per item (more requests only).
MAX_TRANSACTION_ITEMS = 25
#: The counter item's attributes (the three counts are KpiDelta's fields).
CHECKPOINT = "last_sequence_number"
SHARD_ID = "stream_shard_id"
APPLIED_AT = "applied_at"


class CheckpointMoved(TodoError):
    """Another invocation moved this shard's checkpoint since it was read."""

    def __init__(self, shard_id: str) -> None:
        super().__init__(f"the checkpoint of stream shard {shard_id} moved; retry the batch")
        self.shard_id = shard_id


@dataclass(frozen=True)
class Applied:
    """What :meth:`KpiLedger.apply` did with a batch."""

    #: Changes past the checkpoint (counted now).
    applied: int
    #: Changes at or before the checkpoint (counted by an earlier delivery).
    skipped: int
    transactions: int
    delta: KpiDelta


def _chunks(changes: Sequence[KpiChange]) -> List[List[KpiChange]]:
    """Consecutive runs whose markers fit in one transaction with the counter item."""
    chunks: List[List[KpiChange]] = []
    current: List[KpiChange] = []
    markers: Set[Tuple[str, dt.date]] = set()
    for change in changes:
        marker = _marker_of(change)
        if (
            marker is not None
            and marker not in markers
            and len(markers) + 2 > MAX_TRANSACTION_ITEMS
        ):
            chunks.append(current)
            current, markers = [], set()
        current.append(change)
        if marker is not None:
            markers.add(marker)
    if current:
        chunks.append(current)
    return chunks


def _marker_of(change: KpiChange) -> Optional[Tuple[str, dt.date]]:
    if change.active_user is None or change.active_at is None:
        return None
    return change.active_user, change.active_at.astimezone(dt.timezone.utc).date()


class KpiLedger:
    """Applies stream changes to the per-shard KPI counters (see the module docstring)."""

    def __init__(
        self, client: Any, table_name: str, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self._table = Table(client, table_name)
        self._clock = clock

    def checkpoint(self, shard_id: str) -> Optional[str]:
        """The shard's last applied sequence number (padded), None before the first."""
        response = self._table.call(
            "get_item",
            TableName=self._table.name,
            Key=to_item(keys.kpi_counter_key(shard_id)),
            ProjectionExpression="#c",
            ExpressionAttributeNames={"#c": CHECKPOINT},
            ConsistentRead=True,
        )
        value = from_item(response.get("Item") or {}).get(CHECKPOINT)
        return None if value is None else str(value)

    def apply(self, shard_id: str, changes: Sequence[KpiChange]) -> Applied:
        """Count the changes past the shard's checkpoint, exactly once.

        ``changes`` are one shard's, in stream order. Raises
        :class:`CheckpointMoved` if another invocation got in first, and
        ``StoreUnavailable`` when DynamoDB throttles: nothing of the failed
        transaction is applied, and a re-delivery picks up from the checkpoint.
        """
        last = self.checkpoint(shard_id)
        fresh = [c for c in changes if last is None or c.position > last]
        transactions = 0
        total = KpiDelta()
        for chunk in _chunks(fresh):
            if not any(c.has_effect for c in chunk):
                # Nothing to count: the checkpoint need not move (skipping
                # bookkeeping again on a re-delivery is harmless).
                continue
            delta = self._commit(shard_id, chunk, last)
            last = chunk[-1].position
            transactions += 1
            total = total + delta
        return Applied(len(fresh), len(changes) - len(fresh), transactions, total)

    def _commit(self, shard_id: str, chunk: Sequence[KpiChange], last: Optional[str]) -> KpiDelta:
        delta = KpiDelta()
        markers: Dict[Tuple[str, dt.date], dt.datetime] = {}
        for change in chunk:
            delta = delta + change.delta
            marker = _marker_of(change)
            if marker is not None and change.active_at is not None:
                markers[marker] = max(change.active_at, markers.get(marker, change.active_at))
        actions = [self._counter_update(shard_id, delta, chunk[-1].position, last)]
        actions += [self._marker_put(user, at) for (user, _), at in sorted(markers.items())]
        self._table.transact(actions, {0: lambda: CheckpointMoved(shard_id)})
        return delta

    def _counter_update(
        self, shard_id: str, delta: KpiDelta, position: str, last: Optional[str]
    ) -> Dict[str, Any]:
        counts = delta.as_dict()
        names = {"#c": CHECKPOINT, "#s": SHARD_ID, "#at": APPLIED_AT}
        names.update({f"#{name}": name for name in counts})
        values = {
            ":c": to_attribute(position),
            ":s": to_attribute(shard_id),
            ":at": to_attribute(iso(self._clock())),
        }
        values.update({f":{name}": to_attribute(value) for name, value in counts.items()})
        if last is None:
            condition = "attribute_not_exists(#c)"
        else:
            condition = "#c = :last"
            values[":last"] = to_attribute(last)
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": to_item(keys.kpi_counter_key(shard_id)),
                "UpdateExpression": "SET #c = :c, #s = :s, #at = :at ADD "
                + ", ".join(f"#{name} :{name}" for name in counts),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _marker_put(self, user_id: str, at: dt.datetime) -> Dict[str, Any]:
        """The user's activity marker of ``at``'s UTC day (idempotent: a Put)."""
        at = at.astimezone(dt.timezone.utc)
        item = {
            **keys.activity_key(at.date(), user_id),
            "user_id": user_id,
            "last_active_at": iso(at),
            keys.TTL_ATTRIBUTE: int(at.timestamp()) + keys.ACTIVITY_TTL_SECONDS,
        }
        return {"Put": {"TableName": self._table.name, "Item": to_item(item)}}
