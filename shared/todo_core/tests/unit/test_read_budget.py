"""One list call examines a bounded number of items, whatever the filter matches."""

from __future__ import annotations

from typing import Any, Dict, List

from hypothesis import given
from hypothesis import strategies as st

from todo_core.cursor import CursorCodec
from todo_core.models import TaskPriority, TaskStatus
from todo_core.ports import TaskFilter
from todo_core.task_repository import MAX_ITEMS_EXAMINED, TaskRepository


class NothingMatches:
    """A partition larger than any budget where the filter drops every row."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []

    def query(self, **request: Any) -> Dict[str, Any]:
        self.requests.append(dict(request))
        start = int(request.get("ExclusiveStartKey", {}).get("GSI1SK", {}).get("S", "0"))
        end = start + request["Limit"]
        return {
            "Items": [],
            "ScannedCount": request["Limit"],
            "LastEvaluatedKey": {
                "PK": {"S": "TASK#u"},
                "SK": {"S": f"TASK#{end}"},
                "GSI1PK": {"S": "TASK#u#STATUS#pending"},
                "GSI1SK": {"S": f"{end:012d}"},
            },
        }


@given(st.integers(min_value=1, max_value=100))
def test_items_examined_per_request_are_capped(limit: int) -> None:
    client = NothingMatches()
    repo = TaskRepository(client, "t", CursorCodec(b"k" * 32))
    f = TaskFilter(status=TaskStatus.PENDING, priority=TaskPriority.URGENT)
    page = repo.list_tasks("u", f, limit=limit)
    assert sum(r["Limit"] for r in client.requests) <= MAX_ITEMS_EXAMINED
    # Short (here empty) but not the end: the cursor continues where it stopped.
    assert page.items == []
    assert page.next_cursor is not None
