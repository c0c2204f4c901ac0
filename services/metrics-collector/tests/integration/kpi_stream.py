"""The KPIs are kept from the table's stream by the KPI aggregator: tests run
it (the real handler, through the local event source mapping) over a test
table's stream before the collector reads, as the deployed mapping would
have done by then."""

from __future__ import annotations

from typing import Any

from todo_local.emulator import REGION, client_environment
from todo_local.stack import make_client
from todo_local.stream_runner import StreamRunner

HANDLER = "kpi_aggregator.handler.lambda_handler"


def apply_stream(dynamodb: Any, table: str) -> None:
    """Run the aggregator over ``table``'s stream until it has caught up.

    Each call reads the stream from its start, as a new mapping would; the
    aggregator's checkpoints skip what earlier calls applied.
    """
    endpoint = dynamodb.meta.endpoint_url
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    with StreamRunner(
        make_client("dynamodbstreams", endpoint),
        arn,
        HANDLER,
        region=REGION,
        function_name="todo-kpi-aggregator-local",
        tumbling_window=60,
        max_retries=0,
        poll_interval=0.02,
        environment={
            **client_environment(endpoint),
            "STAGE": "local",
            "TABLE_NAME": table,
            "POWERTOOLS_METRICS_DISABLED": "true",
        },
    ) as mapping:
        mapping.drain(timeout=60)
        assert not mapping.on_failure, mapping.on_failure
