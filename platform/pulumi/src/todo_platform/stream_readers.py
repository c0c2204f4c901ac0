"""What every reader of the table stream shares (the CDC function, the KPI aggregator).

Each reads the stream through a Lambda event source mapping that reports
partial batch failures and parks what it gives up on in an SQS queue; the
queue holds only stream ranges, so it keeps them for SQS's longest retention.
"""

from __future__ import annotations

from typing import List

import pulumi
import pulumi_aws as aws

from todo_platform import iam
from todo_platform.blocks import child

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


def dead_letter_queue(parent: pulumi.Resource, logical_name: str, name: str) -> aws.sqs.Queue:
    """Where a reader's mapping parks the stream ranges it gave up on."""
    return aws.sqs.Queue(
        logical_name,
        name=name,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
        opts=child(parent),
    )


def read_stream_statements(
    stream_arn: pulumi.Input[str],
    table_arn: pulumi.Input[str],
    dead_letter_queue_arn: pulumi.Input[str],
) -> List[iam.Statement]:
    """What the mapping needs of the reader's role: read the stream, park failures."""
    return [
        iam.allow(
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [stream_arn],
            sid="ReadTableStream",
        ),
        iam.allow(
            ["dynamodb:ListStreams"],
            [pulumi.Output.concat(table_arn, "/stream/*")],
            sid="ListTableStreams",
        ),
        iam.allow(["sqs:SendMessage"], [dead_letter_queue_arn], sid="SendFailuresToDlq"),
    ]
