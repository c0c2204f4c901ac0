"""The business KPI counts (the :class:`~todo_core.ports.KpiSource` role).

Task and profile writes keep sharded counters and daily activity markers in
the same transactions as the changes (see :mod:`todo_core.task_repository`),
so reading the KPIs costs the same whatever the number of tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Optional, Set

from todo_core import keys
from todo_core.attributes import from_item, to_item
from todo_core.dynamodb import Table, iso
from todo_core.models import utc_now
from todo_core.ports import KpiCounts


class KpiRepository:
    def __init__(
        self, client: Any, table_name: str, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self._table = Table(client, table_name)
        self._clock = clock

    def read_kpis(self, now: Optional[dt.datetime] = None) -> KpiCounts:
        """The exact KPI counts, at a cost independent of the number of tasks.

        Reads the counter shards (one BatchGetItem) and the activity markers of
        the last two days (cost grows with active users only).
        """
        # UTC, as the activity partitions' days are (see Table.activity_put).
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        shard_keys = [to_item(keys.stats_key(s)) for s in range(keys.STATS_SHARDS)]
        totals = {"users": 0, "tasks": 0, "completed": 0}
        pending: Dict[str, Any] = {self._table.name: {"Keys": shard_keys, "ConsistentRead": True}}
        while pending:
            response = self._table.call("batch_get_item", RequestItems=pending)
            for item in response.get("Responses", {}).get(self._table.name, []):
                data = from_item(item)
                for name in totals:
                    totals[name] += int(data.get(name, 0))
            pending = response.get("UnprocessedKeys") or {}

        since = now - dt.timedelta(hours=24)
        active: Set[str] = set()
        for day in (since.date(), now.date()):
            for shard in range(keys.ACTIVITY_SHARDS):
                active |= self._active_users_in(keys.activity_partition(day, shard), since)
        return KpiCounts(
            total_users=totals["users"],
            active_users=len(active),
            total_tasks=totals["tasks"],
            completed_tasks=totals["completed"],
        )

    def _active_users_in(self, partition: str, since: dt.datetime) -> Set[str]:
        request: Dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#t >= :since",
            "ProjectionExpression": "#u",
            "ExpressionAttributeNames": {"#pk": keys.PK, "#t": "last_active_at", "#u": "user_id"},
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":since": {"S": iso(since)}},
        }
        users: Set[str] = set()
        while True:
            response = self._table.call("query", **request)
            users.update(item["user_id"]["S"] for item in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return users
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
