"""TodoMonitoring: alert topic, metrics collector, alarms, dashboard; the stack outputs."""

from __future__ import annotations

import ast
import json
from typing import Dict, List

import pytest
from harness import (
    ACCOUNT_ID,
    API_ID,
    REPO_ROOT,
    STAGES,
    StackRun,
    cli_config,
    deployable_config,
    run_program,
    stack_file_config,
)

from todo_core.naming import METRICS_NAMESPACE, OUTPUT_NAMES, ResourceNames
from todo_platform.dashboard import BUSINESS_METRICS, SECTION_TITLES, STAGE_DIMENSION
from todo_platform.policies import FUNCTION, METRIC_ALARM, ResourceRecord


def names(run: StackRun) -> ResourceNames:
    return ResourceNames(run.stage, ACCOUNT_ID, "us-east-1")


def topic_arn(run: StackRun) -> str:
    return f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:{names(run).alert_topic}"


def alarms(run: StackRun) -> Dict[str, ResourceRecord]:
    """The alarms of the stage's region (the standby's: tests/test_standby_api.py)."""
    return {
        r.inputs["name"]: r
        for r in run.of_type(METRIC_ALARM)
        if r.inputs.get("region") in (None, "us-east-1")
    }


def alarm(run: StackRun, name: str) -> dict:
    return alarms(run)[name].inputs


# --- topic ------------------------------------------------------------------------------


def test_alert_topic_is_kms_encrypted_and_publishable_by_alarms_and_rules(run: StackRun) -> None:
    topic = run.named("alerts-topic").inputs
    assert topic["name"] == names(run).alert_topic
    assert topic["kmsMasterKeyId"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/alerts-key-0000-1111"
    key_policy = json.loads(run.named("alerts-key").inputs["policy"])
    services = {s["Principal"].get("Service") for s in key_policy["Statement"]}
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services
    (statement,) = json.loads(run.named("alerts-topic-policy").inputs["policy"])["Statement"]
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert run.outputs["AlertTopicArn"] == topic_arn(run)


def test_email_subscription_only_when_configured(run: StackRun) -> None:
    email = deployable_config(run.stage)["todo-platform:alerts"]["email"]
    subscriptions = [
        s
        for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
        if "region" not in s.inputs
    ]
    if email is None:
        assert subscriptions == []
    else:
        (subscription,) = subscriptions
        assert subscription.inputs == {
            "topic": topic_arn(run),
            "protocol": "email",
            "endpoint": email,
        }


# --- metrics collector ----------------------------------------------------------------------


def test_metrics_collector_runs_on_schedule_with_its_contract(run: StackRun) -> None:
    fn = run.named("metrics-function").inputs
    config = stack_file_config(run.stage)["todo-platform:metricsCollector"]
    assert fn["name"] == names(run).metrics_function
    assert fn["handler"] == "metrics_collector.handler.lambda_handler"
    assert fn["environment"]["variables"] == {
        "STAGE": run.stage,
        "TABLE_NAME": names(run).table,
        "METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_SERVICE_NAME": "todo-metrics-collector",
        "LOG_LEVEL": config["function"]["logLevel"],
    }
    rule = run.named("metrics-schedule").inputs
    assert rule["scheduleExpression"] == config["scheduleExpression"]
    target = run.named("metrics-schedule-target").inputs
    assert target["arn"].endswith(f":function:{names(run).metrics_function}")
    permission = run.named("schedule-invokes-collector").inputs
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["sourceArn"] == f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/{rule['name']}"


def test_metrics_collector_reads_the_table_and_writes_only_its_namespace(run: StackRun) -> None:
    statements = {
        s["Sid"]: s for s in json.loads(run.named("metrics-policy").inputs["policy"])["Statement"]
    }
    assert statements["ReadKpiItems"]["Action"] == [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    ]
    assert statements["ReadKpiItems"]["Resource"] == [
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/{names(run).table}"
    ]
    metrics = statements["PutOwnMetrics"]
    assert metrics["Action"] == ["cloudwatch:PutMetricData"]
    assert metrics["Resource"] == ["*"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}


# --- alarms ----------------------------------------------------------------------------------


def test_api_alarms_match_the_runbook(run: StackRun) -> None:
    api = names(run).api
    five = alarm(run, f"{api}-5xx")
    assert (five["namespace"], five["metricName"], five["statistic"]) == (
        "AWS/ApiGateway",
        "5xx",
        "Sum",
    )
    assert (five["threshold"], five["period"], five["evaluationPeriods"]) == (1, 60, 1)
    assert five["dimensions"] == {"ApiId": API_ID}
    latency = alarm(run, f"{api}-latency-p95")
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == (
        "Latency",
        "p95",
        500,
    )
    four = alarm(run, f"{api}-4xx")
    assert (four["metricName"], four["threshold"], four["evaluationPeriods"]) == ("4xx", 10, 2)


@pytest.mark.parametrize("attr", ["api_function", "cdc_function", "metrics_function"])
def test_every_lambda_has_error_duration_and_throttle_alarms(run: StackRun, attr: str) -> None:
    fn = getattr(names(run), attr)
    errors, duration, throttles = (
        alarm(run, f"{fn}-{kind}") for kind in ("errors", "duration", "throttles")
    )
    for a in (errors, duration, throttles):
        assert a["namespace"] == "AWS/Lambda"
        assert a["dimensions"] == {"FunctionName": fn}
    assert (
        errors["metricName"],
        errors["statistic"],
        errors["threshold"],
        errors["evaluationPeriods"],
    ) == ("Errors", "Sum", 5, 1)
    assert (duration["metricName"], duration["threshold"], duration["evaluationPeriods"]) == (
        "Duration",
        5000,
        2,
    )
    assert (throttles["metricName"], throttles["threshold"]) == ("Throttles", 0)


def test_pipeline_alarms(run: StackRun) -> None:
    n = names(run)
    age = alarm(run, f"{n.cdc_function}-iterator-age")
    assert (age["metricName"], age["statistic"], age["dimensions"]) == (
        "IteratorAge",
        "Maximum",
        {"FunctionName": n.cdc_function},
    )
    dlq = alarm(run, f"{n.cdc_dead_letter_queue}-not-empty")
    assert (dlq["namespace"], dlq["metricName"], dlq["threshold"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        0,
    )
    assert dlq["comparisonOperator"] == "GreaterThanThreshold"
    for stream in (n.cdc_delivery_stream, n.logs_delivery_stream):
        failures = alarm(run, f"{stream}-delivery-failures")
        assert (
            failures["metricName"],
            failures["statistic"],
            failures["comparisonOperator"],
            failures["threshold"],
        ) == ("DeliveryToS3.Success", "Minimum", "LessThanThreshold", 1)
        assert failures["dimensions"] == {"DeliveryStreamName": stream}
        assert alarm(run, f"{stream}-data-freshness")["threshold"] == 900
    throttles = alarm(run, f"{n.table}-throttles")
    assert {q.get("expression") for q in throttles["metricQueries"]} >= {"reads + writes"}


def test_cost_alarms_watch_us_east_1_billing(run: StackRun) -> None:
    for key, service, threshold in (
        ("dynamodb", "AmazonDynamoDB", 50),
        ("lambda", "AWSLambda", 20),
    ):
        cost = alarm(run, f"todo-{key}-cost-{run.stage}")
        assert (cost["namespace"], cost["metricName"], cost["statistic"]) == (
            "AWS/Billing",
            "EstimatedCharges",
            "Maximum",
        )
        assert cost["dimensions"] == {"ServiceName": service, "Currency": "USD"}
        assert cost["threshold"] == threshold
        assert cost["region"] == "us-east-1"


def test_every_alarm_notifies_the_alert_topic(run: StackRun) -> None:
    # 21, the KPI aggregator's 5 (its function's 3, iterator age, parked
    # records), and two more where the second region's replication is watched (prod).
    assert len(alarms(run)) == 26 + (2 if run.stage == "prod" else 0)
    for a in alarms(run).values():
        assert a.inputs["alarmActions"] == [topic_arn(run)], a.name
        assert a.inputs["okActions"] == [topic_arn(run)]


def test_replication_lag_and_failures_are_alarmed_where_replicated(run: StackRun) -> None:
    n = names(run)
    latency = alarms(run).get(f"{n.table}-replication-latency")
    failures = alarms(run).get(f"{n.bronze_bucket}-replication-failures")
    if run.stage != "prod":
        assert latency is None
        assert failures is None
        return
    assert latency is not None
    assert failures is not None
    assert (latency.inputs["namespace"], latency.inputs["metricName"]) == (
        "AWS/DynamoDB",
        "ReplicationLatency",
    )
    assert latency.inputs["dimensions"] == {"TableName": n.table, "ReceivingRegion": "us-west-2"}
    assert latency.inputs["threshold"] == 60000
    assert failures.inputs["dimensions"] == {
        "SourceBucket": n.bronze_bucket,
        "DestinationBucket": ResourceNames("prod", ACCOUNT_ID, "us-west-2").bronze_bucket,
        "RuleId": n.bronze_replication_rule,
    }
    assert (failures.inputs["metricName"], failures.inputs["threshold"]) == (
        "OperationsFailedReplication",
        0,
    )


def test_glue_job_failures_notify_the_topic(run: StackRun) -> None:
    n = names(run)
    rule = run.named("glue-job-failures").inputs
    pattern = json.loads(rule["eventPattern"])
    assert pattern["source"] == ["aws.glue"]
    assert pattern["detail-type"] == ["Glue Job State Change"]
    assert pattern["detail"] == {
        "jobName": [n.silver_job, n.gold_job],
        "state": ["FAILED", "TIMEOUT", "ERROR"],
    }
    target = run.named("glue-job-failures-to-topic").inputs
    assert target == {"rule": rule["name"], "arn": topic_arn(run)}


def test_cost_alarms_outside_us_east_1_notify_a_us_east_1_topic(artifacts_dir) -> None:  # type: ignore[no-untyped-def]
    """Alarms can only notify topics of their own region; billing metrics live in us-east-1."""
    config = stack_file_config("dev")
    config["aws:region"] = "eu-west-1"
    run = run_program("dev", cli_config(config), artifacts_dir)
    billing = run.named("billing-alerts-topic").inputs
    assert billing["region"] == "us-east-1"
    billing_arn = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:{billing['name']}"
    regional_arn = f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:todo-api-alerts-dev"
    for a in run.of_type(METRIC_ALARM):
        expected = billing_arn if a.inputs.get("region") == "us-east-1" else regional_arn
        assert a.inputs["alarmActions"] == [expected], a.name
    assert run.named("billing-alerts-key").inputs["region"] == "us-east-1"
    assert run.outputs["DashboardUrl"].startswith(
        "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#"
    )


# --- dashboard ---------------------------------------------------------------------------------


def widgets(run: StackRun) -> List[dict]:
    return json.loads(run.named("dashboard").inputs["dashboardBody"])["widgets"]


def metrics_in(widget: dict) -> List[list]:
    return widget.get("properties", {}).get("metrics", [])


def test_dashboard_has_the_runbooks_six_sections(run: StackRun) -> None:
    headings = [w["properties"]["markdown"] for w in widgets(run) if w["type"] == "text"]
    assert headings == [f"## {t}" for t in SECTION_TITLES]
    assert run.named("dashboard").inputs["dashboardName"] == names(run).dashboard
    assert run.outputs["DashboardUrl"] == (
        f"https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name={names(run).dashboard}"
    )


def test_dashboard_widgets_fit_the_grid_without_overlap(run: StackRun) -> None:
    cells = set()
    for w in widgets(run):
        assert w["x"] >= 0
        assert w["x"] + w["width"] <= 24
        for x in range(w["x"], w["x"] + w["width"]):
            for y in range(w["y"], w["y"] + w["height"]):
                assert (x, y) not in cells
                cells.add((x, y))


def test_dashboard_business_metrics_are_the_six_kpis_per_stage(run: StackRun) -> None:
    kpis = [
        m
        for w in widgets(run)
        for m in metrics_in(w)
        if m[0] == METRICS_NAMESPACE and STAGE_DIMENSION in m
    ]
    assert sorted(m[1] for m in kpis) == sorted(BUSINESS_METRICS)
    assert all(m[2:] == [STAGE_DIMENSION, run.stage] for m in kpis)


def test_dashboard_covers_every_function_and_the_cost_in_us_east_1(run: StackRun) -> None:
    functions = {f.inputs["name"] for f in run.of_type(FUNCTION)}
    lambda_metrics = [m for w in widgets(run) for m in metrics_in(w) if m[0] == "AWS/Lambda"]
    for metric in ("Duration", "Errors", "Throttles", "Invocations"):
        assert {m[3] for m in lambda_metrics if m[1] == metric} == functions
    cost = [w for w in widgets(run) if any(m[0] == "AWS/Billing" for m in metrics_in(w))]
    assert cost
    assert all(w["properties"]["region"] == "us-east-1" for w in cost)
    etl = {m[1] for w in widgets(run) for m in metrics_in(w)}
    assert {
        "DeliveryToS3.Success",
        "DeliveryToS3.DataFreshness",
        "MatchedEvents",
        "ConsumedReadCapacityUnits",
        "ReadThrottleEvents",
        "SuccessfulRequestLatency",
        "Count",
        "4xx",
        "5xx",
        "Latency",
    } <= etl


def test_kpi_names_match_what_the_metrics_collector_publishes() -> None:
    """The dashboard spells the KPI names; the collector's source is the truth."""
    source = REPO_ROOT / "services" / "metrics-collector" / "src" / "metrics_collector" / "kpis.py"
    if not source.exists():
        pytest.skip("metrics-collector sources not present")
    published = [
        node.args[0].value
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "MetricSpec"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    assert sorted(published) == sorted(BUSINESS_METRICS)
    publisher = (source.parent / "publisher.py").read_text()
    assert f'STAGE_DIMENSION = "{STAGE_DIMENSION}"' in publisher


# --- outputs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_outputs_are_the_runbooks_names_all_resolved(stage: str, stack_runs) -> None:  # type: ignore[no-untyped-def]
    outputs = stack_runs(stage).outputs
    assert list(outputs) == list(OUTPUT_NAMES)
    assert all(isinstance(v, str) and v for v in outputs.values())
    assert (
        outputs["TableArn"]
        == f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/todo-app-data-{stage}"
    )


def test_dashboard_graphs_the_lake_jobs_run_metrics(run: StackRun) -> None:
    from todo_core.naming import ETL_METRICS_NAMESPACE

    graphed = {
        (m[1], m[3])
        for w in widgets(run)
        for m in metrics_in(w)
        if m[0] == ETL_METRICS_NAMESPACE and m[-2:] == ["Stage", run.stage]
    }
    assert {("SilverEventsWritten", "silver"), ("GoldRowsWritten", "gold")} <= graphed
    assert {("SilverRunSeconds", "silver"), ("GoldRunSeconds", "gold")} <= graphed
