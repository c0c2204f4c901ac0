"""Lambda entry point (``kpi_aggregator.handler.lambda_handler``).

Thin on purpose: the rules are todo_core's (:mod:`todo_core.kpi_changes`,
:mod:`todo_core.kpi_ledger`), the batch handling in :mod:`kpi_aggregator.consumer`.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from kpi_aggregator.consumer import RESPONSE, PoisonRecord, consume
from kpi_aggregator.settings import SERVICE_NAME, get_settings
from todo_core.kpi_ledger import KpiLedger
from todo_core.naming import METRICS_NAMESPACE

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE_NAME)
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE),
    service=_SERVICE,
)

#: Created on first use, reused by every invocation of this execution environment.
_ledger: Optional[KpiLedger] = None


def ledger() -> KpiLedger:
    global _ledger
    if _ledger is None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "dynamodb",
            # A failed batch is retried by the mapping from the checkpoint;
            # short timeouts keep an invocation well inside its own.
            config=Config(retries={"mode": "standard"}, connect_timeout=3, read_timeout=10),
        )
        _ledger = KpiLedger(client, get_settings().table_name)
    return _ledger


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    settings = get_settings()
    logger.append_keys(stage=settings.stage, shard_id=event.get("shardId"))
    try:
        applied = consume(ledger(), event)
    except PoisonRecord as poison:
        # The mapping bisects down to this record and parks it (see consumer).
        logger.error(
            "unreadable stream record; failing the batch to isolate it",
            extra={"sequence_number": poison.sequence_number, "reason": poison.reason},
        )
        metrics.add_metric(name="KpiPoisonRecords", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="KpiChangesApplied", unit=MetricUnit.Count, value=applied.applied)
    # Re-deliveries the checkpoint absorbed (retries, bisection, crashes).
    metrics.add_metric(name="KpiChangesSkipped", unit=MetricUnit.Count, value=applied.skipped)
    logger.debug("batch applied", extra={"delta": applied.delta.as_dict()})
    return dict(RESPONSE)


def reset_execution_environment() -> None:
    """Forget the cached client and settings, as a fresh execution environment would.

    The local event source mapping calls this when it starts, so a handler
    reused in one process never talks to a previous emulator.
    """
    global _ledger
    _ledger = None
    get_settings.cache_clear()
