"""The single-table key design: the only place that spells a key or index name.

Every item lives in one DynamoDB table with a generic string primary key
(``PK``/``SK``). Entities and their keys:

==============  ===================================  ===========================
entity          PK                                   SK
==============  ===================================  ===========================
user profile    ``USER#<user_id>``                   ``PROFILE``
task            ``TASK#<user_id>``                   ``TASK#<task_id>``
idempotency     ``IDEMPOTENCY#<record id>``          ``IDEMPOTENCY``
KPI counters    ``KPI#COUNTERS``                     ``SHARD#<stream shard id>``
daily activity  ``ACTIVITY#<yyyy-mm-dd>#<shard>``    ``USER#<user_id>``
==============  ===================================  ===========================

Task list queries are served by the base table (all of a user's tasks, in
creation order, because task ids are time-ordered UUIDv7) or by one of four
user-scoped GSIs. The status, priority and category indexes sort by due date
(undated last), so a due-date range combines with any of them in the key
condition rather than a filter.

Key components are escaped (``%`` and ``#``) so that any user id, task id or
category round-trips, whatever characters it holds.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

PK = "PK"
SK = "SK"
#: Epoch-seconds attribute that DynamoDB TTL deletes on (idempotency, activity).
TTL_ATTRIBUTE = "expires_at"
#: On a user's task count: the time of the create or delete that last moved it.
LAST_WRITE_ATTRIBUTE = "last_write_at"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
BILLING_MODE = "PAY_PER_REQUEST"

USER_PREFIX = "USER#"
TASK_PREFIX = "TASK#"
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
STATS_PREFIX = "STATS#"
KPI_COUNTERS_PARTITION = "KPI#COUNTERS"
KPI_SHARD_PREFIX = "SHARD#"
ACTIVITY_PREFIX = "ACTIVITY#"
PROFILE_SK = "PROFILE"
TASK_COUNT_SK = "TASK_COUNT"
IDEMPOTENCY_SK = "IDEMPOTENCY"
COUNTERS_SK = "COUNTERS"

#: Sort-key stand-in for "no due date": sorts after every ISO date.
UNDATED = "~"
#: Due sort keys are ``<date>#<task id>``. ``<date>$`` sorts after every key of
#: that date whatever the task id holds ("$" is the character after "#") and
#: before every key of the next date, so it is an exact inclusive upper bound.
_AFTER_DATE = "$"
MIN_DATE = "0000-01-01"
MAX_DATE = "9999-12-31"

#: The counter layout before the KPIs were kept from the change stream: 8
#: items ``STATS#00..07`` that every task write updated. Nothing writes or
#: reads them any more; kept so that tools can find (and delete) old items.
STATS_SHARDS = 8
ACTIVITY_SHARDS = 8
#: Activity items outlive the 24-hour ActiveUsers window by a safe margin.
ACTIVITY_TTL_SECONDS = 3 * 24 * 3600


def escape(component: str) -> str:
    """Make ``component`` safe to embed between ``#`` separators."""
    return component.replace("%", "%25").replace("#", "%23")


def unescape(component: str) -> str:
    """Inverse of :func:`escape`."""
    return component.replace("%23", "#").replace("%25", "%")


@dataclass(frozen=True)
class GlobalIndex:
    """A GSI: its name and the attributes holding its partition and sort keys."""

    name: str
    pk: str
    sk: str


BY_STATUS = GlobalIndex("by_status", "GSI1PK", "GSI1SK")
BY_PRIORITY = GlobalIndex("by_priority", "GSI2PK", "GSI2SK")
BY_CATEGORY = GlobalIndex("by_category", "GSI3PK", "GSI3SK")
BY_DUE_DATE = GlobalIndex("by_due_date", "GSI4PK", "GSI4SK")
GLOBAL_INDEXES: Tuple[GlobalIndex, ...] = (BY_STATUS, BY_PRIORITY, BY_CATEGORY, BY_DUE_DATE)


# --- primary keys -----------------------------------------------------------


def user_key(user_id: str) -> Dict[str, str]:
    return {PK: USER_PREFIX + escape(user_id), SK: PROFILE_SK}


def task_count_key(user_id: str) -> Dict[str, str]:
    """The user's number of tasks (the per-user quota); bookkeeping, not an entity."""
    return {PK: USER_PREFIX + escape(user_id), SK: TASK_COUNT_SK}


def task_partition(user_id: str) -> str:
    return TASK_PREFIX + escape(user_id)


def task_key(user_id: str, task_id: str) -> Dict[str, str]:
    return {PK: task_partition(user_id), SK: TASK_PREFIX + escape(task_id)}


def idempotency_key(record_id: str) -> Dict[str, str]:
    """Key of an idempotency record; ``record_id`` already scopes it to one user."""
    return {PK: IDEMPOTENCY_PREFIX + escape(record_id), SK: IDEMPOTENCY_SK}


def stats_key(shard: int) -> Dict[str, str]:
    """A counter item of the old layout (see :data:`STATS_SHARDS`)."""
    return {PK: f"{STATS_PREFIX}{shard:02d}", SK: COUNTERS_SK}


def kpi_counter_key(stream_shard_id: str) -> Dict[str, str]:
    """The KPI counters and checkpoint kept by the consumer of one stream shard.

    One item per stream shard: a shard is processed by one invocation at a
    time, so no two consumers ever write the same counter item. All of them
    share one partition, so the reader gets every count with one Query.
    """
    return {PK: KPI_COUNTERS_PARTITION, SK: KPI_SHARD_PREFIX + escape(stream_shard_id)}


def activity_partition(day: dt.date, shard: int) -> str:
    return f"{ACTIVITY_PREFIX}{day.isoformat()}#{shard:02d}"


def activity_key(day: dt.date, user_id: str) -> Dict[str, str]:
    shard = zlib.crc32(user_id.encode("utf-8")) % ACTIVITY_SHARDS
    return {PK: activity_partition(day, shard), SK: USER_PREFIX + escape(user_id)}


# --- decoding ----------------------------------------------------------------


def parse_user_key(key: Dict[str, str]) -> str:
    """The user id of a user-profile key; ValueError for any other key."""
    pk, sk = key.get(PK, ""), key.get(SK, "")
    if not (pk.startswith(USER_PREFIX) and sk == PROFILE_SK):
        raise ValueError(f"not a user key: {key!r}")
    return unescape(pk[len(USER_PREFIX) :])


def parse_task_key(key: Dict[str, str]) -> Tuple[str, str]:
    """``(user_id, task_id)`` of a task key; ValueError for any other key."""
    pk, sk = key.get(PK, ""), key.get(SK, "")
    if not (pk.startswith(TASK_PREFIX) and sk.startswith(TASK_PREFIX)):
        raise ValueError(f"not a task key: {key!r}")
    return unescape(pk[len(TASK_PREFIX) :]), unescape(sk[len(TASK_PREFIX) :])


def task_count_owner(key: Dict[str, str]) -> Optional[str]:
    """The user id of a task-count key (see :func:`task_count_key`), None for any other key."""
    pk, sk = key.get(PK, ""), key.get(SK, "")
    if pk.startswith(USER_PREFIX) and sk == TASK_COUNT_SK:
        return unescape(pk[len(USER_PREFIX) :])
    return None


def entity_of(key: Dict[str, str]) -> Optional[Tuple[str, str]]:
    """``(entity_type, user_id)`` for domain entities, None for everything else.

    This is the rule that decides which stream records reach the data lake:
    tasks and user profiles do; idempotency records, counters and activity
    markers are bookkeeping and do not.
    """
    pk, sk = key.get(PK, ""), key.get(SK, "")
    if pk.startswith(TASK_PREFIX) and sk.startswith(TASK_PREFIX):
        return "task", unescape(pk[len(TASK_PREFIX) :])
    if pk.startswith(USER_PREFIX) and sk == PROFILE_SK:
        return "user", unescape(pk[len(USER_PREFIX) :])
    return None


# --- GSI attributes ------------------------------------------------------------


def due_sort_key(due_date: Optional[dt.date], task_id: str) -> str:
    return f"{due_date.isoformat() if due_date else UNDATED}#{escape(task_id)}"


def due_range(due_after: Optional[dt.date], due_before: Optional[dt.date]) -> Tuple[str, str]:
    """Inclusive sort-key bounds for tasks due on or after / on or before."""
    low = due_after.isoformat() if due_after else MIN_DATE
    high = (due_before.isoformat() if due_before else MAX_DATE) + _AFTER_DATE
    return low, high


def parse_due_sort_key(sort_key: str) -> Tuple[Optional[dt.date], str]:
    """``(due_date or None, task_id)`` of a due sort key; ValueError otherwise."""
    day, sep, task = sort_key.partition("#")
    if not sep or not task:
        raise ValueError(f"not a due sort key: {sort_key!r}")
    return (None if day == UNDATED else dt.date.fromisoformat(day)), unescape(task)


def status_partition(user_id: str, status: str) -> str:
    return f"{task_partition(user_id)}#STATUS#{escape(status)}"


def priority_partition(user_id: str, priority: str) -> str:
    return f"{task_partition(user_id)}#PRIORITY#{escape(priority)}"


def category_partition(user_id: str, category: str) -> str:
    return f"{task_partition(user_id)}#CATEGORY#{escape(category)}"


def parse_index_partition(partition: str) -> Tuple[str, str, str]:
    """``(user_id, dimension, value)`` of a status/priority/category index
    partition, dimension being ``STATUS``, ``PRIORITY`` or ``CATEGORY``."""
    parts = partition.split("#")
    if (
        len(parts) != 4
        or parts[0] + "#" != TASK_PREFIX
        or parts[2] not in ("STATUS", "PRIORITY", "CATEGORY")
    ):
        raise ValueError(f"not an index partition: {partition!r}")
    return unescape(parts[1]), parts[2], unescape(parts[3])


def task_index_attributes(
    user_id: str,
    task_id: str,
    status: str,
    priority: str,
    category: Optional[str],
    due_date: Optional[dt.date],
) -> Dict[str, str]:
    """The GSI key attributes a task item carries (sparse: no category, no due date)."""
    sort = due_sort_key(due_date, task_id)
    attrs = {
        BY_STATUS.pk: status_partition(user_id, status),
        BY_STATUS.sk: sort,
        BY_PRIORITY.pk: priority_partition(user_id, priority),
        BY_PRIORITY.sk: sort,
    }
    if category:
        attrs[BY_CATEGORY.pk] = category_partition(user_id, category)
        attrs[BY_CATEGORY.sk] = sort
    if due_date:
        attrs[BY_DUE_DATE.pk] = task_partition(user_id)
        attrs[BY_DUE_DATE.sk] = sort
    return attrs


def key_attributes_for(index: Optional[GlobalIndex]) -> Tuple[str, ...]:
    """Attributes that make up an ExclusiveStartKey for the table or an index."""
    return (PK, SK) if index is None else (PK, SK, index.pk, index.sk)


# --- the table specification ------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """Everything needed to create the table; consumed by Pulumi and the emulator."""

    attributes: Tuple[str, ...]
    hash_key: str
    range_key: str
    indexes: Tuple[GlobalIndex, ...]
    billing_mode: str
    stream_view_type: str
    ttl_attribute: str

    def create_table_request(self, table_name: str) -> Dict[str, Any]:
        """CreateTable arguments in boto3's shape (TTL is applied separately)."""
        return {
            "TableName": table_name,
            "BillingMode": self.billing_mode,
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in self.attributes
            ],
            "KeySchema": [
                {"AttributeName": self.hash_key, "KeyType": "HASH"},
                {"AttributeName": self.range_key, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": index.pk, "KeyType": "HASH"},
                        {"AttributeName": index.sk, "KeyType": "RANGE"},
                    ],
                    # Lists return whole tasks; projecting ALL avoids a GetItem per row.
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in self.indexes
            ],
            "StreamSpecification": {
                "StreamEnabled": True,
                "StreamViewType": self.stream_view_type,
            },
        }


def _all_key_attributes() -> Tuple[str, ...]:
    names: List[str] = [PK, SK]
    for index in GLOBAL_INDEXES:
        names += [index.pk, index.sk]
    return tuple(names)


TABLE_SPEC = TableSpec(
    attributes=_all_key_attributes(),
    hash_key=PK,
    range_key=SK,
    indexes=GLOBAL_INDEXES,
    billing_mode=BILLING_MODE,
    stream_view_type=STREAM_VIEW_TYPE,
    ttl_attribute=TTL_ATTRIBUTE,
)
