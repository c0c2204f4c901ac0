"""TodoMonitoring: alert topic, metrics collector, dashboard and alarms."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import pulumi
import pulumi_aws as aws

from todo_core.naming import METRICS_NAMESPACE, ResourceNames
from todo_platform import iam, permissions
from todo_platform.alarms import (
    AlarmSpec,
    api_alarm_specs,
    cost_alarm_specs,
    function_alarm_specs,
    pipeline_alarm_specs,
    replication_alarm_specs,
)
from todo_platform.artifacts import CDC_PROCESSOR, METRICS_COLLECTOR, Artifacts
from todo_platform.blocks import FunctionSpec, ServiceFunction, child, kms_key, service_function
from todo_platform.budget import monthly_budget
from todo_platform.config import Settings
from todo_platform.dashboard import BILLING_REGION, DashboardInputs, dashboard_body
from todo_platform.delivery import LakeLogs, subscribe_to_lake

#: Glue job states that page someone.
GLUE_FAILURE_STATES = ("FAILED", "TIMEOUT", "ERROR")
#: The services that publish to the alert topics (alarms, Glue-failure rules, budgets).
ALERT_PUBLISHERS = ("budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com")


def dashboard_url(region: str, dashboard: str) -> str:
    return f"https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard}"


@dataclass(frozen=True)
class TodoMonitoringArgs:
    settings: Settings
    names: ResourceNames
    artifacts: Artifacts
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    table_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    api_id: pulumi.Input[str]
    #: The functions deployed elsewhere (api, cdc); the collector is added here.
    functions: Sequence[ServiceFunction]
    dead_letter_queue_name: pulumi.Input[str]
    cdc_stream_name: pulumi.Input[str]
    logs_stream_name: pulumi.Input[str]
    silver_job_name: pulumi.Input[str]
    gold_job_name: pulumi.Input[str]
    #: The collector's log group is delivered into bronze ``logs/`` like the others.
    lake_logs: LakeLogs
    #: The warm-standby API in the second region, watched there.
    standby: Optional[StandbyWatch] = None


@dataclass(frozen=True)
class StandbyWatch:
    """What runs in the second region: its alarms notify a topic of that region."""

    region: str
    api_id: pulumi.Input[str]
    functions: Sequence[ServiceFunction]


class TodoMonitoring(pulumi.ComponentResource):
    """Everything an operator watches, and everything that pages them."""

    def __init__(
        self, name: str, args: TodoMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("todo:platform:TodoMonitoring", name, None, opts)
        self._args = args
        self._settings, self._names = args.settings, args.names
        names, region = args.names, args.settings.region
        # --- Glue job state changes (the events exist before the topic policy) ----
        self.glue_failure_rule = self._glue_rule(
            "glue-job-failures", names.glue_failure_rule, GLUE_FAILURE_STATES
        )
        # No target: its MatchedEvents metric is the dashboard's completion count.
        self.glue_success_rule = self._glue_rule(
            "glue-job-successes", names.glue_success_rule, ("SUCCEEDED",)
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
            else self._alert_topic("billing-alerts", names.billing_alert_topic, BILLING_REGION)
        )
        self.standby_topic = self._standby_topic()
        self.collector = self._collector()
        self.functions: List[ServiceFunction] = [*args.functions, self.collector]
        self.alarms: Dict[str, aws.cloudwatch.MetricAlarm] = {}
        for spec in [*self._alarm_specs(), *self._standby_alarm_specs()]:
            self._alarm(spec)
        self._table_throttle_alarm()
        self.budget = monthly_budget(self, args.settings, names, self.topic)
        self.dashboard = self._dashboard()
        self.dashboard_url = dashboard_url(region, names.dashboard)
        self.register_outputs(
            {"dashboardUrl": self.dashboard_url, "alertTopicArn": self.alert_topic_arn}
        )

    def _collector(self) -> ServiceFunction:
        args = self._args
        collector, names = args.settings.metrics_collector, args.names
        declared = permissions.declared(METRICS_COLLECTOR)
        statements = [
            # The KPI counters and activity markers: read only, base table only.
            iam.allow(
                ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"],
                [args.table_arn],
                sid="ReadKpiItems",
            ),
            iam.kms_user(args.table_key_arn, ["kms:Decrypt"], sid="DecryptTableItems"),
            iam.metrics_writer(*declared.metrics_namespaces),
        ]
        environment: Dict[str, pulumi.Input[str]] = {
            "STAGE": args.settings.stage,
            "TABLE_NAME": args.table_name,
            "METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_SERVICE_NAME": METRICS_COLLECTOR.package,
            "LOG_LEVEL": collector.function.log_level,
        }
        spec = FunctionSpec(
            METRICS_COLLECTOR,
            names.metrics_function,
            collector.function,
            environment,
            statements,
            args.logs_key_arn,
        )
        service = service_function(self, spec, args.settings, args.artifacts)
        subscribe_to_lake(
            self, "metrics", names.metrics_function, service.log_group.name, args.lake_logs
        )
        self.collector_schedule = aws.cloudwatch.EventRule(
            "metrics-schedule",
            name=names.metrics_schedule,
            description="Publishes the business KPIs",
            schedule_expression=collector.schedule_expression,
            opts=child(self),
        )
        aws.cloudwatch.EventTarget(
            "metrics-schedule-target",
            rule=self.collector_schedule.name,
            arn=service.function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=300, maximum_retry_attempts=2
            ),
            opts=child(self),
        )
        aws.lambda_.Permission(
            "schedule-invokes-collector",
            action="lambda:InvokeFunction",
            function=service.function.name,
            principal="events.amazonaws.com",
            source_arn=self.collector_schedule.arn,
            opts=child(self),
        )
        return service

    def _dashboard(self) -> aws.cloudwatch.Dashboard:
        args, names, settings = self._args, self._names, self._settings
        body = pulumi.Output.all(
            args.api_id,
            args.cdc_stream_name,
            args.logs_stream_name,
            args.silver_job_name,
            args.gold_job_name,
            args.table_name,
            args.dead_letter_queue_name,
            self.glue_failure_rule.name,
            self.glue_success_rule.name,
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    DashboardInputs(
                        stage=settings.stage,
                        region=settings.region,
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
        return aws.cloudwatch.Dashboard(
            "dashboard", dashboard_name=names.dashboard, dashboard_body=body, opts=child(self)
        )

    # --- topics ---------------------------------------------------------------------------

    def _alert_topic(self, key: str, topic_name: str, region: Optional[str]) -> aws.sns.Topic:
        """A KMS-encrypted topic that CloudWatch alarms, EventBridge and Budgets may publish to."""
        names, settings = self._names, self._settings
        key_resource = kms_key(
            self,
            key,
            topic_name,
            f"Encrypts the {topic_name} topic",
            names.account_id,
            settings,
            service_statements=[
                iam.service_key_use(
                    f"{p.split('.')[0].capitalize()}PublishesEncrypted",
                    p,
                    ["kms:Decrypt", "kms:GenerateDataKey*"],
                )
                for p in ALERT_PUBLISHERS
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
                        "Principal": {"Service": list(ALERT_PUBLISHERS)},
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
        self, key: str, rule_name: str, states: Sequence[str]
    ) -> aws.cloudwatch.EventRule:
        args = self._args
        pattern = pulumi.Output.all(args.silver_job_name, args.gold_job_name).apply(
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

    def _alarm_specs(self) -> List[AlarmSpec]:
        a, names, args = self._settings.alarms, self._names, self._args
        return [
            *api_alarm_specs(names, a, {"ApiId": args.api_id}),
            *[spec for fn in self.functions for spec in function_alarm_specs(fn, a)],
            *pipeline_alarm_specs(names, a, args),
            *replication_alarm_specs(names, self._settings, args.table_name),
            *cost_alarm_specs(names, a),
        ]

    def _standby_topic(self) -> Optional[aws.sns.Topic]:
        standby = self._args.standby
        if standby is None:
            return None
        if standby.region == BILLING_REGION:
            return self.billing_topic
        # Same name as the stage's topic: topic names are per region.
        return self._alert_topic("alerts-standby", self._names.alert_topic, standby.region)

    def _standby_alarm_specs(self) -> List[AlarmSpec]:
        """The API's and its function's alarms again, in the standby region."""
        standby, a = self._args.standby, self._settings.alarms
        if standby is None:
            return []
        specs = [
            *api_alarm_specs(self._names, a, {"ApiId": standby.api_id}),
            *[spec for fn in standby.functions for spec in function_alarm_specs(fn, a)],
        ]
        return [
            dataclasses.replace(spec, key=f"standby-{spec.key}", region=standby.region)
            for spec in specs
        ]

    def _topic_for(self, region: Optional[str]) -> aws.sns.Topic:
        """Alarms notify topics of their own region only."""
        if region is None or region == self._settings.region:
            return self.topic
        if self._args.standby is not None and region == self._args.standby.region:
            assert self.standby_topic is not None
            return self.standby_topic
        return self.billing_topic

    def _alarm(self, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        topic = self._topic_for(spec.region)
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

    def _table_throttle_alarm(self) -> None:
        """Reads and writes throttled on the table or its indexes (one alarm, metric math)."""
        table = {"TableName": self._args.table_name}
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
            name=ResourceNames.alarm(self._names.table, "throttles"),
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
