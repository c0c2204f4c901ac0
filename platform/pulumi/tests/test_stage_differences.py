"""What differs between dev, staging and prod, and what must not."""

from __future__ import annotations

from harness import StackRun

from todo_platform.policies import BUCKET, FUNCTION, LOG_GROUP, TABLE


def retention(run: StackRun) -> set:
    return {g.inputs["retentionInDays"] for g in run.of_type(LOG_GROUP)}


def test_prod_protects_its_data(dev: StackRun, staging: StackRun, prod: StackRun) -> None:
    assert prod.one(TABLE).inputs["deletionProtectionEnabled"] is True
    assert prod.named("user-pool").inputs["deletionProtection"] == "ACTIVE"
    for run in (dev, staging):
        assert run.one(TABLE).inputs["deletionProtectionEnabled"] is False
    assert all(b.inputs["forceDestroy"] is False for b in prod.of_type(BUCKET))
    assert all(b.inputs["forceDestroy"] is True for b in dev.of_type(BUCKET))
    assert prod.named("athena-workgroup").inputs["forceDestroy"] is False


def test_retention_grows_towards_prod(dev: StackRun, staging: StackRun, prod: StackRun) -> None:
    assert retention(dev) == {14}
    assert retention(staging) == {30}
    assert retention(prod) == {365}
    noncurrent = [
        r.inputs["rules"][1]["noncurrentVersionExpiration"]["noncurrentDays"]
        for r in (
            dev.named("bronze-lifecycle"),
            staging.named("bronze-lifecycle"),
            prod.named("bronze-lifecycle"),
        )
    ]
    assert noncurrent == [7, 30, 90]


def test_recovery_and_streams_are_on_everywhere(
    dev: StackRun, staging: StackRun, prod: StackRun
) -> None:
    for run in (dev, staging, prod):
        table = run.one(TABLE).inputs
        assert table["pointInTimeRecovery"] == {"enabled": True}
        assert table["streamEnabled"] is True


def test_prod_hides_the_docs_and_reserves_capacity(dev: StackRun, prod: StackRun) -> None:
    def route_keys(run: StackRun) -> set:
        return {r.inputs["routeKey"] for r in run.of_type("aws:apigatewayv2/route:Route")}

    assert {"GET /docs", "GET /openapi.json"} <= route_keys(dev)
    assert route_keys(prod) == {"GET /health"} | {
        f"{m} /api/v1/{{proxy+}}" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    assert all("reservedConcurrentExecutions" not in f.inputs for f in dev.of_type(FUNCTION))
    assert all(f.inputs["reservedConcurrentExecutions"] > 0 for f in prod.of_type(FUNCTION))


def test_prod_offers_mfa_pages_people_and_runs_the_schedule(dev: StackRun, prod: StackRun) -> None:
    assert dev.named("user-pool").inputs["mfaConfiguration"] == "OFF"
    assert prod.named("user-pool").inputs["mfaConfiguration"] == "OPTIONAL"
    assert prod.named("user-pool").inputs["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert dev.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    # The alert topic, and its twin in the standby region.
    assert len(prod.of_type("aws:sns/topicSubscription:TopicSubscription")) == 2
    assert dev.named("silver-schedule").inputs["enabled"] is False
    assert prod.named("silver-schedule").inputs["enabled"] is True


#: Resources a stage has or not by its settings: the docs routes, the e-mail
#: subscription, and prod's warm API (alias with provisioned concurrency).
OPTIONAL = {
    "route-get-docs",
    "route-get-openapi-json",
    "alerts-email",
    "api-alias",
    "api-provisioned-concurrency",
}
#: ...and what exists only in a stage with a second region (prod): logical
#: names with ``standby`` (resources in that region), and bronze's replication.
SECOND_REGION = ("standby", "bronze-replication", "table-replication")
#: ...and what only a stage on Glue Spark has (etl.engine: spark): its security
#: configuration, its jobs' log groups, and the wheels of the Spark bundle
#: (tests/test_glue_spark.py checks that this is all the engine adds).
SPARK_ENGINE = ("glue-spark-security", "-spark-", "-wheel-")


def test_every_stage_has_the_same_shape(dev: StackRun, staging: StackRun, prod: StackRun) -> None:
    """Stages differ in settings, not in which resources exist (the OPTIONAL ones aside)."""

    def shape(run: StackRun) -> set:
        return {
            (r.type, r.name)
            for r in run.records
            if r.name not in OPTIONAL
            and not any(part in r.name for part in (*SECOND_REGION, *SPARK_ENGINE))
        }

    assert shape(dev) == shape(staging) == shape(prod)


def test_dev_runs_the_single_worker_and_staging_runs_prods_engine(
    dev: StackRun, staging: StackRun, prod: StackRun
) -> None:
    """Staging rehearses prod on prod's engine (Glue Spark); dev keeps the quick, cheap worker."""

    def command(run: StackRun) -> tuple:
        return tuple(
            run.named(f"{key}-job").inputs["command"]["name"] for key in ("silver", "gold")
        )

    assert command(dev) == ("pythonshell", "pythonshell")
    assert command(staging) == command(prod) == ("glueetl", "glueetl")
    size = {run.stage: run.named("silver-job").inputs["numberOfWorkers"] for run in (staging, prod)}
    assert size["staging"] < size["prod"]
