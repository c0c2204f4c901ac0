"""One collection run: read the exact counters, derive the KPIs, publish them.

Order matters for the failure rules: nothing is published unless the counters
were read and passed the invariant checks, so a broken source shows up as a
failed invocation and a gap in the graphs, never as zeros.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from metrics_collector.errors import InconsistentCounters, KpiSourceUnavailable, PublishFailed
from metrics_collector.kpis import BusinessKpis
from metrics_collector.observability import logger
from metrics_collector.publisher import MetricsPublisher
from metrics_collector.settings import Settings
from todo_core.kpi_repository import KpiRepository
from todo_core.models import utc_now
from todo_core.ports import KpiSource


def collect(
    source: KpiSource,
    publisher: MetricsPublisher,
    stage: str,
    now: Optional[dt.datetime] = None,
) -> BusinessKpis:
    """Read, check, publish; returns what was published. Raises a CollectorError otherwise."""
    now = now or utc_now()
    try:
        counts = source.read_kpis(now)
    except Exception as exc:
        logger.exception(
            "KPI counters unavailable; nothing published",
            extra={"stage": stage, "error_type": type(exc).__name__},
        )
        raise KpiSourceUnavailable(f"could not read the KPI counters: {exc}") from exc
    try:
        kpis = BusinessKpis.from_counts(counts)
    except InconsistentCounters:
        logger.exception("KPI counters inconsistent; nothing published", extra={"stage": stage})
        raise
    if kpis.active_users > kpis.total_users:
        # Possible only for writers that bypass record_user_seen (not the API).
        logger.warning("more active users than user profiles", extra={"counts": kpis.by_name()})
    try:
        publisher.publish(kpis.publishable(), stage, now)
    except PublishFailed:
        logger.exception(
            "publishing the KPIs failed",
            extra={"stage": stage, "namespace": publisher.namespace, "kpis": kpis.by_name()},
        )
        raise
    logger.info(
        "KPIs published",
        extra={
            "stage": stage,
            "namespace": publisher.namespace,
            "kpis": kpis.by_name(),
            # A ratio with a zero denominator is left out, not published as 0.
            "not_published": kpis.undefined(),
        },
    )
    return kpis


def kpi_source_for(settings: Settings, dynamodb_client: Any) -> KpiSource:
    return KpiRepository(dynamodb_client, settings.table_name)


def run(
    settings: Settings,
    dynamodb_client: Any,
    cloudwatch_client: Any,
    now: Optional[dt.datetime] = None,
) -> BusinessKpis:
    """A whole run with the given clients (the Lambda handler and the benchmark use this)."""
    return collect(
        kpi_source_for(settings, dynamodb_client),
        MetricsPublisher(cloudwatch_client, settings.metrics_namespace),
        settings.stage,
        now,
    )
