"""Synthetic DynamoDB stream records (Lambda's JSON shape) for the KPI tests."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

from todo_core import keys

EPOCH = dt.datetime(2031, 5, 6, 7, 0, tzinfo=dt.timezone.utc)


def _typed(plain: Dict[str, str]) -> Dict[str, Any]:
    return {name: {"S": value} for name, value in plain.items()}


def task_image(user: str, task: str, status: str, at: dt.datetime) -> Dict[str, Any]:
    stamp = at.isoformat().replace("+00:00", "Z")
    return _typed(
        {
            **keys.task_key(user, task),
            "user_id": user,
            "task_id": task,
            "status": status,
            "updated_at": stamp,
        }
    )


def record(
    event: str,
    key: Dict[str, str],
    sequence: int,
    new: Optional[Dict[str, Any]] = None,
    old: Optional[Dict[str, Any]] = None,
    at: dt.datetime = EPOCH,
) -> Dict[str, Any]:
    ddb: Dict[str, Any] = {
        "ApproximateCreationDateTime": int(at.timestamp()),
        "Keys": _typed(key),
        "SequenceNumber": str(sequence),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    return {
        "eventID": f"e{sequence}",
        "eventName": event,
        "eventSource": "aws:dynamodb",
        "dynamodb": ddb,
    }


class TaskHistory:
    """Builds one shard's records for a script of task changes, with ground truth."""

    def __init__(self, first_sequence: int = 100_000_000_000_000_000_000) -> None:
        self.next_sequence = first_sequence
        self.records: List[Dict[str, Any]] = []
        #: (user, task) -> status of the tasks that exist
        self.tasks: Dict[Tuple[str, str], str] = {}
        self.users: set = set()
        self.active: Dict[str, dt.datetime] = {}

    def _add(self, rec: Dict[str, Any]) -> None:
        self.records.append(rec)
        self.next_sequence += 7  # gaps, as real sequence numbers have

    def profile(self, user: str) -> None:
        new = self.users.__contains__(user)
        key = keys.user_key(user)
        image = _typed({**key, "user_id": user})
        self._add(
            record(
                "MODIFY" if new else "INSERT",
                key,
                self.next_sequence,
                image,
                image if new else None,
            )
        )
        self.users.add(user)

    def write(self, user: str, task: str, status: Optional[str], at: dt.datetime) -> None:
        """Create, update (status), or delete (status None) a task."""
        before = self.tasks.get((user, task))
        key = keys.task_key(user, task)
        old = task_image(user, task, before, at) if before else None
        if status is None:
            if before is None:
                return
            self._add(record("REMOVE", key, self.next_sequence, None, old, at))
            del self.tasks[(user, task)]
            self._count_moved(user, at)
        else:
            new = task_image(user, task, status, at)
            self._add(record("MODIFY" if before else "INSERT", key, self.next_sequence, new, old))
            self.tasks[(user, task)] = status
            if before is None:
                self._count_moved(user, at)
        self.active[user] = max(at, self.active.get(user, at))

    def _count_moved(self, user: str, at: dt.datetime) -> None:
        """The user's task count, stamped with the create's or delete's time."""
        key = keys.task_count_key(user)
        stamp = at.isoformat().replace("+00:00", "Z")
        image = _typed({**key, keys.LAST_WRITE_ATTRIBUTE: stamp})
        # Its record may come in another stream shard, and after the real time
        # of the write: the stamp, not the record's time, says when.
        self._add(record("MODIFY", key, self.next_sequence, image, image, at=EPOCH))

    def bookkeeping(self) -> None:
        key = keys.idempotency_key("u#r")
        self._add(record("INSERT", key, self.next_sequence, _typed(key)))

    def counts(self) -> Dict[str, int]:
        return {
            "users": len(self.users),
            "tasks": len(self.tasks),
            "completed": sum(1 for s in self.tasks.values() if s == "completed"),
        }
