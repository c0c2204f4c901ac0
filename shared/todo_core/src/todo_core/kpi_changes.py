"""What one change-stream record does to the KPI counts (pure, no AWS).

The rules, for records of domain entities (:func:`todo_core.keys.entity_of`):

* a task INSERT adds a task (and a completed one if born ``completed``);
* a task MODIFY moves ``completed`` by the status change, nothing else;
* a task REMOVE subtracts the task (and a completed one if it was);
* a profile INSERT adds a user (users are never deleted: a profile REMOVE
  changes nothing, as "TotalUsers" counts profiles ever created);
* every task write makes its owner active at the time of the write, by the
  writer's clock (as when the API wrote the markers itself): an insert or
  update at the task's ``updated_at``; a create or delete also at the time
  stamped on the user's task count (``keys.LAST_WRITE_ATTRIBUTE``), which
  moves in the same transaction. That stamp is the only time a delete
  leaves: its record holds the task as it was.

Other bookkeeping records (idempotency, the counters and markers
themselves) change nothing. A record that cannot be read raises
:class:`UnreadableRecord`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from todo_core import keys

#: Stream sequence numbers are strings of at most 40 digits (Lambda's event
#: schema); padded to this width they compare as text in a condition.
SEQUENCE_WIDTH = 40
_COMPLETED = "completed"


class UnreadableRecord(ValueError):
    """A stream record the KPI rules cannot read (a poison record)."""


@dataclass(frozen=True)
class KpiDelta:
    """Changes to the three additive counts."""

    users: int = 0
    tasks: int = 0
    completed: int = 0

    def __add__(self, other: KpiDelta) -> KpiDelta:
        return KpiDelta(
            self.users + other.users, self.tasks + other.tasks, self.completed + other.completed
        )

    def as_dict(self) -> Dict[str, int]:
        return {"users": self.users, "tasks": self.tasks, "completed": self.completed}

    @property
    def is_zero(self) -> bool:
        return not (self.users or self.tasks or self.completed)


@dataclass(frozen=True)
class KpiChange:
    """One stream record's effect: its position, its deltas, who it made active."""

    sequence_number: str
    delta: KpiDelta
    active_user: Optional[str] = None
    active_at: Optional[dt.datetime] = None

    @property
    def position(self) -> str:
        """The sequence number padded to compare as text (see :data:`SEQUENCE_WIDTH`)."""
        return padded(self.sequence_number)

    @property
    def has_effect(self) -> bool:
        return not self.delta.is_zero or self.active_user is not None


def padded(sequence_number: str) -> str:
    if not (sequence_number.isdigit() and len(sequence_number) <= SEQUENCE_WIDTH):
        raise UnreadableRecord(f"not a stream sequence number: {sequence_number!r}")
    return sequence_number.rjust(SEQUENCE_WIDTH, "0")


def _text(image: Mapping[str, Any], name: str) -> Optional[str]:
    value = image.get(name)
    if isinstance(value, Mapping) and isinstance(value.get("S"), str):
        return str(value["S"])
    return None


def _completed(image: Mapping[str, Any]) -> int:
    return int(_text(image, "status") == _COMPLETED)


def _epoch(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):  # boto3's GetRecords
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromtimestamp(float(value), tz=dt.timezone.utc)


def _written_at(image: Mapping[str, Any], record_time: Any) -> dt.datetime:
    stamp = _text(image, "updated_at")
    return _parse_time(stamp) if stamp else _epoch(record_time)


def _bookkeeping(
    sequence: str, item_keys: Mapping[str, str], ddb: Mapping[str, Any], event: str
) -> KpiChange:
    owner = keys.task_count_owner(dict(item_keys))
    stamp = _text(ddb.get("NewImage") or {}, keys.LAST_WRITE_ATTRIBUTE)
    if owner is None or event == "REMOVE" or not stamp:
        return KpiChange(sequence, KpiDelta())
    return KpiChange(sequence, KpiDelta(), owner, _parse_time(stamp))


def _parse_time(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def kpi_change(record: Mapping[str, Any]) -> KpiChange:
    """The effect of one Lambda (or GetRecords) DynamoDB stream record."""
    try:
        ddb = record["dynamodb"]
        sequence = str(ddb["SequenceNumber"])
        padded(sequence)
        item_keys = {name: value["S"] for name, value in ddb["Keys"].items()}
        event = record["eventName"]
        if event not in ("INSERT", "MODIFY", "REMOVE"):
            raise UnreadableRecord(f"unknown eventName {event!r}")
        entity = keys.entity_of(item_keys)
        if entity is None:
            return _bookkeeping(sequence, item_keys, ddb, event)
        kind, user_id = entity
        if kind == "user":
            return KpiChange(sequence, KpiDelta(users=1 if event == "INSERT" else 0))
        # An INSERT has no before-image and a REMOVE no after-image, whatever
        # the source sends (some emulator versions send an empty map).
        new = (ddb.get("NewImage") or {}) if event != "REMOVE" else {}
        old = (ddb.get("OldImage") or {}) if event != "INSERT" else {}
        if event != "REMOVE" and not new:
            raise UnreadableRecord(f"a task {event} without a new image")
        if event != "INSERT" and not old:
            raise UnreadableRecord(f"a task {event} without an old image (stream view type?)")
        delta = KpiDelta(
            tasks=(event == "INSERT") - (event == "REMOVE"),
            completed=_completed(new) - _completed(old),
        )
        if event == "REMOVE":  # its time comes with the task count's record
            return KpiChange(sequence, delta)
        return KpiChange(
            sequence, delta, user_id, _written_at(new, ddb.get("ApproximateCreationDateTime"))
        )
    except UnreadableRecord:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnreadableRecord(f"unreadable stream record: {exc!r}") from exc
