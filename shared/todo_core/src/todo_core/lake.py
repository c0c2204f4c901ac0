"""The data-lake layout: prefixes and table names shared by the CDC pipeline,
the Glue jobs, the Pulumi program and the local stack.
"""

from __future__ import annotations

from typing import Tuple

# --- bronze ---------------------------------------------------------------
#: Change events from the CDC delivery stream (JSON lines, gzip in AWS).
BRONZE_CDC_PREFIX = "cdc/"
#: The API's structured request logs from the logs delivery stream.
BRONZE_LOGS_PREFIX = "logs/"
#: Where Firehose writes what it could not deliver.
BRONZE_ERROR_PREFIX = "errors/"

#: Firehose S3 prefix expression for the date partitions (hour helps re-runs
#: and late-data handling; no user_id partition: see the bronze layout in
#: services/cdc-processor/README.md).
DATE_PARTITION_EXPRESSION = (
    "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
)

# --- silver -----------------------------------------------------------------
SILVER_TASK_EVENTS = "task_events"
SILVER_TASKS = "tasks"
SILVER_USERS = "users"
SILVER_API_REQUESTS = "api_requests"
SILVER_TABLES: Tuple[str, ...] = (
    SILVER_TASK_EVENTS,
    SILVER_TASKS,
    SILVER_USERS,
    SILVER_API_REQUESTS,
)
#: Records that broke the contract, with the reason.
QUARANTINE_PREFIX = "quarantine/"
#: The silver job's own bookkeeping (processed bronze objects, run manifests).
STATE_PREFIX = "_state/"

# --- gold -------------------------------------------------------------------
GOLD_USER_ANALYTICS = "user_analytics"
GOLD_DAILY_TASK_METRICS = "daily_task_metrics"
GOLD_CATEGORY_ANALYTICS = "category_analytics"
GOLD_KPI_SNAPSHOT = "kpi_snapshot"
GOLD_TABLES: Tuple[str, ...] = (
    GOLD_USER_ANALYTICS,
    GOLD_DAILY_TASK_METRICS,
    GOLD_CATEGORY_ANALYTICS,
    GOLD_KPI_SNAPSHOT,
)
ATHENA_RESULTS_PREFIX = "athena-results/"


def table_prefix(table: str) -> str:
    """The S3 prefix a lake table lives under, in its layer's bucket."""
    return f"{table}/"
