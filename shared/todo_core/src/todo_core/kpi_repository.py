"""The business KPI counts (the :class:`~todo_core.ports.KpiSource` role).

The counters and daily activity markers are kept from the table's change
stream (:mod:`todo_core.kpi_ledger`, run by the KPI aggregator), so the counts
are as of the stream's lag, and reading them costs the same whatever the
number of tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Optional, Set

from todo_core import keys
from todo_core.attributes import from_item
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

        Reads the counter items (one Query of their partition: one item per
        stream shard) and the activity markers of the last two days (cost
        grows with active users only).
        """
        # UTC, as the activity partitions' days are (see KpiLedger).
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        totals = {"users": 0, "tasks": 0, "completed": 0}
        request: Dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": ", ".join(f"#{name}" for name in totals),
            "ExpressionAttributeNames": {"#pk": keys.PK, **{f"#{n}": n for n in totals}},
            "ExpressionAttributeValues": {":pk": {"S": keys.KPI_COUNTERS_PARTITION}},
            "ConsistentRead": True,
        }
        while True:
            response = self._table.call("query", **request)
            for item in response.get("Items", []):
                data = from_item(item)
                for name in totals:
                    totals[name] += int(data.get(name, 0))
            if not response.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

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
