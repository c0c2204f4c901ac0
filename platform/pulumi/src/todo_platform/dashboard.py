"""The CloudWatch dashboard body: the runbook's six sections, from plain names.

Built from resolved strings (inside an ``apply``) so it can be unit-tested as
ordinary data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

from todo_core.naming import ETL_METRICS_NAMESPACE, METRICS_NAMESPACE

#: Billing metrics exist only in us-east-1, whatever the stage's region.
BILLING_REGION = "us-east-1"
#: The business KPIs the metrics collector publishes (runbook "Metrics Published").
BUSINESS_COUNTS = ("TotalUsers", "ActiveUsers", "TotalTasks", "CompletedTasks")
BUSINESS_RATIOS = ("CompletionRate", "AvgTasksPerUser")
BUSINESS_METRICS = BUSINESS_COUNTS + BUSINESS_RATIOS
#: What the silver and gold jobs publish per run (dimensions Job and Stage).
ETL_JOB_METRICS = (
    ("silver", ("SilverEventsRead", "SilverEventsWritten", "SilverEventsQuarantined")),
    ("gold", ("GoldInputRows", "GoldRowsWritten")),
)
ETL_RUN_SECONDS = (("silver", "SilverRunSeconds"), ("gold", "GoldRunSeconds"))
#: The dimension the metrics collector puts on every KPI.
STAGE_DIMENSION = "Stage"
#: Services whose estimated charges the cost section shows.
COST_SERVICES = (
    "AmazonDynamoDB",
    "AWSLambda",
    "AmazonS3",
    "AWSGlue",
    "AmazonKinesisFirehose",
    "AmazonApiGateway",
    "AmazonCloudWatch",
    "AmazonAthena",
)
SECTION_TITLES = (
    "API health",
    "Lambda performance",
    "ETL pipeline health",
    "Database performance",
    "Business metrics",
    "Cost",
)
DATABASE_OPERATIONS = (
    "GetItem",
    "Query",
    "BatchGetItem",
    "PutItem",
    "UpdateItem",
    "TransactWriteItems",
)


@dataclass(frozen=True)
class DashboardInputs:
    stage: str
    region: str
    api_id: str
    functions: Tuple[str, ...]
    cdc_function: str
    cdc_service: str
    dead_letter_queue: str
    table: str
    delivery_streams: Tuple[str, ...]
    glue_jobs: Tuple[str, ...]
    glue_failure_rule: str
    glue_success_rule: str


Metric = List[Any]


def _metric_widget(
    title: str,
    metrics: Sequence[Metric],
    stat: str,
    region: str,
    period: int = 300,
) -> Dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": region,
            "stat": stat,
            "period": period,
            "view": "timeSeries",
            "stacked": False,
            "metrics": [list(m) for m in metrics],
        },
    }


def _api_health_graphs(i: DashboardInputs) -> List[Dict[str, Any]]:
    """The "API health" section."""
    r = i.region
    api = ["AWS/ApiGateway"]
    return [
        _metric_widget("Requests", [[*api, "Count", "ApiId", i.api_id]], "Sum", r),
        _metric_widget(
            "4XX / 5XX errors",
            [[*api, "4xx", "ApiId", i.api_id], [*api, "5xx", "ApiId", i.api_id]],
            "Sum",
            r,
        ),
        _metric_widget(
            "Latency (ms)",
            [
                [*api, "Latency", "ApiId", i.api_id],
                [*api, "IntegrationLatency", "ApiId", i.api_id],
            ],
            "Average",
            r,
        ),
    ]


def _lambda_performance_graphs(i: DashboardInputs) -> List[Dict[str, Any]]:
    """The "Lambda performance" section."""
    r = i.region
    lam = "AWS/Lambda"
    return [
        _metric_widget(
            f"{metric} ({stat})",
            [[lam, metric, "FunctionName", fn] for fn in i.functions],
            stat,
            r,
        )
        for metric, stat in (
            ("Duration", "Average"),
            ("Errors", "Sum"),
            ("Throttles", "Sum"),
            ("Invocations", "Sum"),
        )
    ]


def _etl_pipeline_health_graphs(i: DashboardInputs) -> List[Dict[str, Any]]:
    """The "ETL pipeline health" section."""
    r = i.region
    lam = "AWS/Lambda"
    return [
        _metric_widget(
            "Firehose delivery success",
            [
                ["AWS/Firehose", "DeliveryToS3.Success", "DeliveryStreamName", s]
                for s in i.delivery_streams
            ],
            "Sum",
            r,
        ),
        _metric_widget(
            "Data freshness (s)",
            [
                ["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", s]
                for s in i.delivery_streams
            ],
            "Average",
            r,
        ),
        _metric_widget(
            "Glue job completions / failures",
            [
                ["AWS/Events", "MatchedEvents", "RuleName", i.glue_success_rule],
                ["AWS/Events", "MatchedEvents", "RuleName", i.glue_failure_rule],
            ],
            "Sum",
            r,
        ),
        _metric_widget(
            "Lake job rows (per run)",
            [
                [ETL_METRICS_NAMESPACE, metric, "Job", job, STAGE_DIMENSION, i.stage]
                for job, metrics in ETL_JOB_METRICS
                for metric in metrics
            ],
            "Sum",
            r,
        ),
        _metric_widget(
            "Lake job run time (s)",
            [
                [ETL_METRICS_NAMESPACE, metric, "Job", job, STAGE_DIMENSION, i.stage]
                for job, metric in ETL_RUN_SECONDS
            ],
            "Maximum",
            r,
        ),
        _metric_widget(
            "CDC records",
            [
                [METRICS_NAMESPACE, name, "service", i.cdc_service]
                for name in ("RecordsProcessed", "RecordsSkipped", "RecordsFailed")
            ],
            "Sum",
            r,
        ),
        _metric_widget(
            "Stream iterator age (ms)",
            [[lam, "IteratorAge", "FunctionName", i.cdc_function]],
            "Maximum",
            r,
        ),
        _metric_widget(
            "CDC dead-letter queue depth",
            [
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    i.dead_letter_queue,
                ]
            ],
            "Maximum",
            r,
        ),
    ]


def _database_performance_graphs(i: DashboardInputs) -> List[Dict[str, Any]]:
    """The "Database performance" section."""
    r = i.region
    return [
        _metric_widget(
            "Consumed capacity units",
            [
                ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", i.table],
                ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", i.table],
            ],
            "Sum",
            r,
        ),
        _metric_widget(
            "Throttled requests",
            [
                ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", i.table],
                ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", i.table],
            ],
            "Sum",
            r,
        ),
        _metric_widget(
            "Request latency (ms)",
            [
                [
                    "AWS/DynamoDB",
                    "SuccessfulRequestLatency",
                    "TableName",
                    i.table,
                    "Operation",
                    op,
                ]
                for op in DATABASE_OPERATIONS
            ],
            "Average",
            r,
        ),
    ]


def _business_metrics_graphs(i: DashboardInputs) -> List[Dict[str, Any]]:
    """The "Business metrics" section."""
    r = i.region
    return [
        _metric_widget(
            "Users and tasks",
            [[METRICS_NAMESPACE, m, STAGE_DIMENSION, i.stage] for m in BUSINESS_COUNTS],
            "Maximum",
            r,
        ),
        _metric_widget(
            "Completion rate (%) and tasks per user",
            [[METRICS_NAMESPACE, m, STAGE_DIMENSION, i.stage] for m in BUSINESS_RATIOS],
            "Maximum",
            r,
        ),
    ]


def _cost_graphs(i: DashboardInputs) -> List[Dict[str, Any]]:
    """The "Cost" section."""
    return [
        _metric_widget(
            "Estimated charges by service (USD, account-wide)",
            [
                ["AWS/Billing", "EstimatedCharges", "ServiceName", s, "Currency", "USD"]
                for s in COST_SERVICES
            ],
            "Maximum",
            BILLING_REGION,
            period=21600,
        ),
        _metric_widget(
            "Estimated charges, total (USD, account-wide)",
            [["AWS/Billing", "EstimatedCharges", "Currency", "USD"]],
            "Maximum",
            BILLING_REGION,
            period=21600,
        ),
    ]


def _sections(i: DashboardInputs) -> List[Tuple[str, List[Dict[str, Any]]]]:
    return [
        ("API health", _api_health_graphs(i)),
        ("Lambda performance", _lambda_performance_graphs(i)),
        ("ETL pipeline health", _etl_pipeline_health_graphs(i)),
        ("Database performance", _database_performance_graphs(i)),
        ("Business metrics", _business_metrics_graphs(i)),
        ("Cost", _cost_graphs(i)),
    ]


def dashboard_body(inputs: DashboardInputs) -> Dict[str, Any]:
    """Widgets laid out on the 24-column grid: a heading row, then the section's graphs."""
    widgets: List[Dict[str, Any]] = []
    y = 0
    for title, graphs in _sections(inputs):
        widgets.append(
            {
                "type": "text",
                "x": 0,
                "y": y,
                "width": 24,
                "height": 1,
                "properties": {"markdown": f"## {title}"},
            }
        )
        y += 1
        per_row = 2 if len(graphs) in (1, 2, 4) else 3
        width = 24 // per_row
        for index, graph in enumerate(graphs):
            graph.update(
                x=(index % per_row) * width, y=y + (index // per_row) * 6, width=width, height=6
            )
            widgets.append(graph)
        y += ((len(graphs) + per_row - 1) // per_row) * 6
    return {"widgets": widgets}
