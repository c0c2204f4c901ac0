"""Lambda entry point (``metrics_collector.handler.lambda_handler``), run on a schedule.

Thin by design: configuration and clients here, the work in
:mod:`metrics_collector.collector`. Any failure propagates, so the invocation
counts in the function's ``Errors`` metric, which the errors alarm watches.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any, Dict, Tuple

import boto3
from botocore.config import Config

from metrics_collector.collector import run
from metrics_collector.observability import logger
from metrics_collector.settings import Settings

#: Short timeouts: a scheduled run that cannot reach a service should fail
#: well inside the function timeout, not hang until it. Retry attempts follow
#: the standard mode (3, or ``AWS_MAX_ATTEMPTS``).
BOTO_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard"})

#: Environment that changes where or how clients connect.
_CLIENT_ENV_PREFIXES = ("AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class Clients:
    dynamodb: Any
    cloudwatch: Any


@functools.lru_cache(maxsize=4)
def _clients(_client_env: Tuple[Tuple[str, str], ...]) -> Clients:
    # Created once per container (the key only changes when tests re-point the env).
    session = boto3.session.Session()
    return Clients(
        dynamodb=session.client("dynamodb", config=BOTO_CONFIG),
        cloudwatch=session.client("cloudwatch", config=BOTO_CONFIG),
    )


def clients() -> Clients:
    env = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.startswith(_CLIENT_ENV_PREFIXES))
    )
    return _clients(env)


def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, float]:
    """Publish the KPIs once; returns the published values by metric name."""
    # Not inject_lambda_context: the demo and tests call this with context=None.
    logger.append_keys(
        request_id=getattr(context, "aws_request_id", None),
        scheduled_at=event.get("time") if isinstance(event, dict) else None,
    )
    try:
        settings = Settings.from_env()
    except ValueError:
        logger.exception("invalid configuration; nothing published")
        raise
    aws = clients()
    kpis = run(settings, aws.dynamodb, aws.cloudwatch)
    return kpis.publishable()
