"""Lambda entry point: DynamoDB stream batch in, partial-batch response out.

Thin on purpose: the work is in :mod:`cdc_processor.processor` (conversion,
outcomes) and :mod:`cdc_processor.delivery` (Firehose, retries).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response

from cdc_processor.delivery import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    FirehoseDelivery,
    RetryPolicy,
)
from cdc_processor.heap import keep_freed_heap
from cdc_processor.processor import CdcBatchProcessor
from cdc_processor.settings import SERVICE_NAME, get_settings
from todo_core.naming import METRICS_NAMESPACE

# Once per execution environment: a batch's freed lines stay in the process
# for the next batch instead of going back to the kernel (see heap.py).
keep_freed_heap()

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE_NAME)
logger = Logger(service=_SERVICE)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE),
    service=_SERVICE,
)

#: Created on first use and reused by every invocation of this execution
#: environment (connection reuse); a batch of bookkeeping items never needs it.
_firehose: Optional[Any] = None


def firehose_client() -> Any:
    global _firehose
    if _firehose is None:
        import boto3
        from botocore.config import Config

        _firehose = boto3.client(
            "firehose",
            # delivery.py is the single retry layer (bounded, per entry).
            config=Config(
                retries={"total_max_attempts": 1},
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
            ),
        )
    return _firehose


def _delivery() -> FirehoseDelivery:
    settings = get_settings()
    policy = RetryPolicy(
        max_attempts=settings.firehose_max_attempts,
        base_seconds=settings.firehose_backoff_base_ms / 1000.0,
        cap_seconds=settings.firehose_backoff_cap_ms / 1000.0,
        deadline_margin_seconds=settings.firehose_deadline_margin_ms / 1000.0,
    )
    return FirehoseDelivery(firehose_client(), settings.firehose_stream_name, policy)


processor = CdcBatchProcessor(_delivery, logger=logger)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    settings = get_settings()
    logger.append_keys(stage=settings.stage)
    response: Dict[str, Any] = dict(
        process_partial_response(
            event=event,
            record_handler=processor.record_handler,
            processor=processor,
            context=context,
        )
    )
    stats = processor.stats
    metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=stats.delivered)
    metrics.add_metric(name="RecordsSkipped", unit=MetricUnit.Count, value=stats.skipped)
    metrics.add_metric(name="RecordsRetried", unit=MetricUnit.Count, value=stats.retried)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=stats.failed)
    logger.info(
        "stream batch processed",
        extra={
            "records": stats.received,
            "delivered": stats.delivered,
            "skipped": stats.skipped,
            "failed": stats.failed,
            "retried": stats.retried,
            "firehose_calls": stats.firehose_calls,
        },
    )
    return response


def reset_execution_environment() -> None:
    """Forget the cached client and settings, as a fresh execution environment would.

    The local event source mapping calls this when it starts, so a handler
    reused in one process never talks to a previous emulator.
    """
    global _firehose
    _firehose = None
    get_settings.cache_clear()
