"""The KPI aggregator: the table stream's second reader, keeping the exact KPI counters.

A function of its own rather than a step of the CDC function, so a KPI
failure never holds up the lake and a Firehose outage never holds up the
KPIs; two readers per stream shard is DynamoDB Streams' documented limit
(README of ``services/kpi-aggregator``), so a third reader needs a fan-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import pulumi
import pulumi_aws as aws

from todo_core.naming import METRICS_NAMESPACE, ResourceNames
from todo_platform import iam
from todo_platform.artifacts import KPI_AGGREGATOR, Artifacts
from todo_platform.blocks import FunctionSpec, ServiceFunction, child, service_function
from todo_platform.config import Settings
from todo_platform.delivery import LakeLogs, subscribe_to_lake
from todo_platform.stream_readers import (
    REPORT_BATCH_ITEM_FAILURES,
    dead_letter_queue,
    read_stream_statements,
)


@dataclass(frozen=True)
class TodoKpiAggregatorArgs:
    settings: Settings
    names: ResourceNames
    artifacts: Artifacts
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    stream_arn: pulumi.Input[str]
    table_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    #: Its log lines reach bronze ``logs/`` like every function's.
    lake_logs: LakeLogs


class TodoKpiAggregator(pulumi.ComponentResource):
    """The aggregator function, its stream mapping and its dead-letter queue."""

    def __init__(
        self,
        name: str,
        args: TodoKpiAggregatorArgs,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("todo:platform:TodoKpiAggregator", name, None, opts)
        names = args.names
        self.dead_letter_queue = dead_letter_queue(self, "kpi-dlq", names.kpi_dead_letter_queue)
        spec = FunctionSpec(
            KPI_AGGREGATOR,
            names.kpi_function,
            args.settings.kpi_aggregator.function,
            self._environment(args),
            self._statements(args),
            args.logs_key_arn,
        )
        self.service: ServiceFunction = service_function(
            self, spec, args.settings, args.artifacts
        )
        subscribe_to_lake(
            self, "kpi", names.kpi_function, self.service.log_group.name, args.lake_logs
        )
        self.event_source_mapping = self._mapping(args)
        self.register_outputs({"functionName": self.service.function.name})

    def _environment(self, args: TodoKpiAggregatorArgs) -> Dict[str, pulumi.Input[str]]:
        return {
            "STAGE": args.settings.stage,
            "TABLE_NAME": args.table_name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_SERVICE_NAME": KPI_AGGREGATOR.package,
            "LOG_LEVEL": args.settings.kpi_aggregator.function.log_level,
        }

    def _statements(self, args: TodoKpiAggregatorArgs) -> list:
        return [
            iam.allow(
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [args.table_arn],
                sid="KeepCounters",
            ),
            *read_stream_statements(args.stream_arn, args.table_arn, self.dead_letter_queue.arn),
            iam.kms_user(
                args.table_key_arn, ["kms:Decrypt", "kms:GenerateDataKey"], sid="UseTableKey"
            ),
        ]

    def _mapping(self, args: TodoKpiAggregatorArgs) -> aws.lambda_.EventSourceMapping:
        kpi = args.settings.kpi_aggregator
        return aws.lambda_.EventSourceMapping(
            "kpi-stream-mapping",
            event_source_arn=args.stream_arn,
            function_name=self.service.function.arn,
            starting_position="TRIM_HORIZON",
            batch_size=kpi.batch_size,
            maximum_batching_window_in_seconds=kpi.maximum_batching_window_seconds,
            # Only windowed events name their shard (the checkpoint's key), and
            # one invocation per shard at a time keeps the checkpoint uncontended.
            tumbling_window_in_seconds=kpi.tumbling_window_seconds,
            parallelization_factor=1,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=kpi.maximum_retry_attempts,
            # Never dropped by age: every change must be counted exactly once.
            maximum_record_age_in_seconds=-1,
            function_response_types=[REPORT_BATCH_ITEM_FAILURES],
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=self.dead_letter_queue.arn
                )
            ),
            opts=child(self, depends_on=[self.service.policy]),
        )
