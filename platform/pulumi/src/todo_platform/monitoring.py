"""TodoMonitoring: alert topic, metrics collector, dashboard and alarms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from todo_core.naming import METRICS_NAMESPACE, ResourceNames
from todo_platform import iam
from todo_platform.api import TodoApi
from todo_platform.artifacts import CDC_PROCESSOR, METRICS_COLLECTOR, Artifacts
from todo_platform.blocks import ServiceFunction, child, kms_key, service_function
from todo_platform.config import Settings
from todo_platform.dashboard import BILLING_REGION, DashboardInputs, dashboard_body
from todo_platform.data import TodoData
from todo_platform.etl import TodoEtl

#: Glue job states that page someone.
GLUE_FAILURE_STATES = ("FAILED", "TIMEOUT", "ERROR")


@dataclass(frozen=True)
class AlarmSpec:
    """A single-metric alarm; ``statistic`` may be a percentile such as ``p95``."""

    key: str
    name: str
    description: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    period: int = 300
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"
    region: Optional[str] = None


def dashboard_url(region: str, dashboard: str) -> str:
    return f"https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard}"


class TodoMonitoring(pulumi.ComponentResource):
    """Everything an operator watches, and everything that pages them."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        names: ResourceNames,
        data: TodoData,
        api: TodoApi,
        etl: TodoEtl,
        artifacts: Artifacts,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        super().__init__("todo:platform:TodoMonitoring", name, None, opts)
        self._settings, self._names = settings, names
        stage, region = settings.stage, settings.region

        # --- Glue job state changes (the events exist before the topic policy) ----
        self.glue_failure_rule = self._glue_rule(
            "glue-job-failures", f"todo-lake-jobs-failed-{stage}", etl, GLUE_FAILURE_STATES
        )
        # No target: its MatchedEvents metric is the dashboard's completion count.
        self.glue_success_rule = self._glue_rule(
            "glue-job-successes", f"todo-lake-jobs-succeeded-{stage}", etl, ("SUCCEEDED",)
        )

        self.topic = self._alert_topic("alerts", names.alert_topic, region=None)
        self.alert_topic_arn: pulumi.Output[str] = self.topic.arn
        aws.cloudwatch.EventTarget(
            "glue-job-failures-to-topic",
            rule=self.glue_failure_rule.name,
            arn=self.topic.arn,
            opts=child(self),
        )
        # CloudWatch alarms notify topics of their own region only.
        self.billing_topic = (
            self.topic
            if region == BILLING_REGION
            else self._alert_topic("billing-alerts", f"{names.alert_topic}-billing", BILLING_REGION)
        )

        # --- metrics collector ---------------------------------------------------
        collector = settings.metrics_collector
        self.collector: ServiceFunction = service_function(
            self,
            METRICS_COLLECTOR,
            names.metrics_function,
            collector.function,
            settings,
            artifacts,
            data.logs_key,
            environment={
                "STAGE": stage,
                "TABLE_NAME": data.table.name,
                "METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_SERVICE_NAME": METRICS_COLLECTOR.package,
                "LOG_LEVEL": collector.function.log_level,
            },
            statements=[
                # The KPI counters and activity markers: read only, base table only.
                iam.allow(
                    ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"],
                    [data.table.arn],
                    sid="ReadKpiItems",
                ),
                iam.kms_user(data.table_key.arn, ["kms:Decrypt"], sid="DecryptTableItems"),
                iam.metrics_writer(METRICS_NAMESPACE),
            ],
        )
        self.collector_schedule = aws.cloudwatch.EventRule(
            "metrics-schedule",
            name=f"{names.metrics_function}-schedule",
            description="Publishes the business KPIs",
            schedule_expression=collector.schedule_expression,
            opts=child(self),
        )
        aws.cloudwatch.EventTarget(
            "metrics-schedule-target",
            rule=self.collector_schedule.name,
            arn=self.collector.function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=300, maximum_retry_attempts=2
            ),
            opts=child(self),
        )
        aws.lambda_.Permission(
            "schedule-invokes-collector",
            action="lambda:InvokeFunction",
            function=self.collector.function.name,
            principal="events.amazonaws.com",
            source_arn=self.collector_schedule.arn,
            opts=child(self),
        )

        # --- alarms --------------------------------------------------------------------
        self.functions: List[ServiceFunction] = [api.service, etl.cdc, self.collector]
        self.alarms: Dict[str, aws.cloudwatch.MetricAlarm] = {}
        for spec in self._alarm_specs(api, etl):
            self._alarm(spec)
        self._table_throttle_alarm(data)

        # --- dashboard ------------------------------------------------------------------
        body = pulumi.Output.all(
            api.http_api.id,
            etl.cdc_stream.name,
            etl.logs_stream.name,
            etl.silver_job.name,
            etl.gold_job.name,
            data.table.name,
            etl.dead_letter_queue.name,
            self.glue_failure_rule.name,
            self.glue_success_rule.name,
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    DashboardInputs(
                        stage=stage,
                        region=region,
                        api_id=v[0],
                        functions=tuple(f.name for f in self.functions),
                        cdc_function=names.cdc_function,
                        cdc_service=CDC_PROCESSOR.package,
                        dead_letter_queue=v[6],
                        table=v[5],
                        delivery_streams=(v[1], v[2]),
                        glue_jobs=(v[3], v[4]),
                        glue_failure_rule=v[7],
                        glue_success_rule=v[8],
                    )
                ),
                sort_keys=True,
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            "dashboard", dashboard_name=names.dashboard, dashboard_body=body, opts=child(self)
        )
        self.dashboard_url = dashboard_url(region, names.dashboard)
        self.register_outputs(
            {"dashboardUrl": self.dashboard_url, "alertTopicArn": self.alert_topic_arn}
        )

    # --- topics ---------------------------------------------------------------------------

    def _alert_topic(self, key: str, topic_name: str, region: Optional[str]) -> aws.sns.Topic:
        """A KMS-encrypted topic that CloudWatch alarms and EventBridge may publish to."""
        names, settings = self._names, self._settings
        publishers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
        key_resource = kms_key(
            self,
            key,
            f"{topic_name}",
            f"Encrypts the {topic_name} topic",
            names.account_id,
            settings,
            service_statements=[
                iam.service_key_use(
                    f"{p.split('.')[0].capitalize()}PublishesEncrypted",
                    p,
                    ["kms:Decrypt", "kms:GenerateDataKey*"],
                )
                for p in publishers
            ],
            region=region,
        )
        topic = aws.sns.Topic(
            f"{key}-topic",
            name=topic_name,
            kms_master_key_id=key_resource.arn,
            region=region,
            opts=child(self),
        )
        aws.sns.TopicPolicy(
            f"{key}-topic-policy",
            arn=topic.arn,
            policy=iam.document(
                [
                    {
                        "Sid": "AlarmsAndRulesOfThisAccountPublish",
                        "Effect": "Allow",
                        "Principal": {"Service": publishers},
                        "Action": "sns:Publish",
                        "Resource": topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": names.account_id}},
                    }
                ]
            ),
            region=region,
            opts=child(self),
        )
        if settings.alerts.email:
            aws.sns.TopicSubscription(
                f"{key}-email",
                topic=topic.arn,
                protocol="email",
                endpoint=settings.alerts.email,
                region=region,
                opts=child(self),
            )
        return topic

    def _glue_rule(
        self, key: str, rule_name: str, etl: TodoEtl, states: Sequence[str]
    ) -> aws.cloudwatch.EventRule:
        pattern = pulumi.Output.all(etl.silver_job.name, etl.gold_job.name).apply(
            lambda jobs: json.dumps(
                {
                    "source": ["aws.glue"],
                    "detail-type": ["Glue Job State Change"],
                    "detail": {"jobName": list(jobs), "state": list(states)},
                },
                sort_keys=True,
            )
        )
        return aws.cloudwatch.EventRule(
            key,
            name=rule_name,
            description=f"Glue jobs of the lake entering {', '.join(states)}",
            event_pattern=pattern,
            opts=child(self),
        )

    # --- alarms ---------------------------------------------------------------------------

    def _alarm_specs(self, api: TodoApi, etl: TodoEtl) -> List[AlarmSpec]:
        a, names, stage = self._settings.alarms, self._names, self._settings.stage
        api_dims = {"ApiId": api.http_api.id}
        specs = [
            AlarmSpec(
                "api-5xx",
                f"{names.api}-5xx",
                "API 5XX responses above 1 per minute",
                "AWS/ApiGateway",
                "5xx",
                api_dims,
                "Sum",
                a.api_5xx_per_minute,
                period=60,
            ),
            AlarmSpec(
                "api-latency",
                f"{names.api}-latency-p95",
                "API p95 latency above 500 ms",
                "AWS/ApiGateway",
                "Latency",
                api_dims,
                "p95",
                a.api_latency_p95_ms,
            ),
            AlarmSpec(
                "api-4xx",
                f"{names.api}-4xx",
                "API 4XX responses above 10, two periods running",
                "AWS/ApiGateway",
                "4xx",
                api_dims,
                "Sum",
                a.api_4xx_per_period,
                evaluation_periods=2,
            ),
        ]
        for fn in self.functions:
            key, dims = fn.deployable.key, {"FunctionName": fn.function.name}
            specs += [
                AlarmSpec(
                    f"{key}-errors",
                    f"{fn.name}-errors",
                    f"{fn.name}: more than 5 errors",
                    "AWS/Lambda",
                    "Errors",
                    dims,
                    "Sum",
                    a.lambda_errors,
                ),
                AlarmSpec(
                    f"{key}-duration",
                    f"{fn.name}-duration",
                    f"{fn.name}: average duration above 5 s, two periods running",
                    "AWS/Lambda",
                    "Duration",
                    dims,
                    "Average",
                    a.lambda_duration_ms,
                    evaluation_periods=2,
                ),
                AlarmSpec(
                    f"{key}-throttles",
                    f"{fn.name}-throttles",
                    f"{fn.name} is being throttled",
                    "AWS/Lambda",
                    "Throttles",
                    dims,
                    "Sum",
                    0,
                ),
            ]
        specs += [
            AlarmSpec(
                "cdc-iterator-age",
                f"{names.cdc_function}-iterator-age",
                "CDC is falling behind the table stream",
                "AWS/Lambda",
                "IteratorAge",
                {"FunctionName": etl.cdc_function.name},
                "Maximum",
                a.iterator_age_ms,
            ),
            AlarmSpec(
                "cdc-dlq-depth",
                f"{names.cdc_dead_letter_queue}-not-empty",
                "Change batches gave up on and parked in the dead-letter queue",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": etl.dead_letter_queue.name},
                "Maximum",
                0,
            ),
        ]
        for key, stream in (("cdc", etl.cdc_stream), ("logs", etl.logs_stream)):
            stream_name = names.cdc_delivery_stream if key == "cdc" else names.logs_delivery_stream
            dims = {"DeliveryStreamName": stream.name}
            specs += [
                AlarmSpec(
                    f"{key}-stream-delivery-failures",
                    f"{stream_name}-delivery-failures",
                    f"{stream_name}: deliveries to S3 failing",
                    "AWS/Firehose",
                    "DeliveryToS3.Success",
                    dims,
                    "Minimum",
                    1,
                    comparison="LessThanThreshold",
                ),
                AlarmSpec(
                    f"{key}-stream-freshness",
                    f"{stream_name}-data-freshness",
                    f"{stream_name}: oldest undelivered record too old",
                    "AWS/Firehose",
                    "DeliveryToS3.DataFreshness",
                    dims,
                    "Maximum",
                    a.firehose_freshness_seconds,
                ),
            ]
        # Billing metrics: us-east-1 only, account-wide, updated a few times a day.
        for key, service, threshold in (
            ("dynamodb-cost", "AmazonDynamoDB", a.dynamodb_cost_usd),
            ("lambda-cost", "AWSLambda", a.lambda_cost_usd),
        ):
            specs.append(
                AlarmSpec(
                    key,
                    f"todo-{key}-{stage}",
                    f"{service} estimated charges this month above ${threshold:g}",
                    "AWS/Billing",
                    "EstimatedCharges",
                    {"ServiceName": service, "Currency": "USD"},
                    "Maximum",
                    threshold,
                    period=21600,
                    region=BILLING_REGION,
                )
            )
        return specs

    def _alarm(self, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        topic = self.billing_topic if spec.region else self.topic
        percentile = spec.statistic.startswith("p")
        alarm = aws.cloudwatch.MetricAlarm(
            f"alarm-{spec.key}",
            name=spec.name,
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric_name,
            dimensions=spec.dimensions,
            statistic=None if percentile else spec.statistic,
            extended_statistic=spec.statistic if percentile else None,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            period=spec.period,
            evaluation_periods=spec.evaluation_periods,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            region=spec.region,
            opts=child(self),
        )
        self.alarms[spec.key] = alarm
        return alarm

    def _table_throttle_alarm(self, data: TodoData) -> None:
        """Reads and writes throttled on the table or its indexes (one alarm, metric math)."""
        table = {"TableName": data.table.name}
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/DynamoDB",
                    metric_name=metric,
                    dimensions=table,
                    stat="Sum",
                    period=300,
                ),
            )
            for query_id, metric in (
                ("reads", "ReadThrottleEvents"),
                ("writes", "WriteThrottleEvents"),
            )
        ]
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="throttled",
                expression="reads + writes",
                label="Throttled requests",
                return_data=True,
            )
        )
        self.alarms["table-throttles"] = aws.cloudwatch.MetricAlarm(
            "alarm-table-throttles",
            name=f"{self._names.table}-throttles",
            alarm_description="DynamoDB is throttling reads or writes",
            metric_queries=queries,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=child(self),
        )
