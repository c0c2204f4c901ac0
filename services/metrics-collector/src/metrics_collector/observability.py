"""The one Powertools Logger and Tracer of the function, shared by every module.

One instance (rather than ``Logger(child=True)`` per module) so that log
records are JSON whatever ``POWERTOOLS_SERVICE_NAME`` is set to, or if unset.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "todo-metrics-collector"

logger = Logger(service=SERVICE)
#: Disabled outside Lambda (and so in tests); in Lambda it traces the AWS calls.
tracer = Tracer(service=SERVICE)
