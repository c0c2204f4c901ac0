"""Each deployable's role covers the AWS actions its package declares its code calls."""

from __future__ import annotations

import json
from typing import Dict, List

import pytest
from harness import ACCOUNT_ID, StackRun, cli_config, deployable_config, run_program

from todo_core.naming import ETL_METRICS_NAMESPACE, METRICS_NAMESPACE, ResourceNames
from todo_platform import iam, permissions
from todo_platform.artifacts import DEPLOYABLES, ETL_GOLD, TODO_API, Deployable


def policy_name(deployable: Deployable) -> str:
    """The role policy that carries each deployable's permissions."""
    suffix = "policy" if deployable.kind == "lambda" else "job-policy"
    return f"{deployable.key}-{suffix}"


def statements(run: StackRun, deployable: Deployable) -> List[Dict]:
    return json.loads(run.named(policy_name(deployable)).inputs["policy"])["Statement"]


@pytest.mark.parametrize("deployable", DEPLOYABLES, ids=lambda d: d.package)
def test_every_declared_action_is_granted(run: StackRun, deployable: Deployable) -> None:
    declared = permissions.declared(deployable)
    assert declared.actions, f"{deployable.path}/pyproject.toml declares no actions"
    engine, etl = None, deployable_config(run.stage)["todo-platform:etl"]
    if deployable is ETL_GOLD:
        engine = etl.get("goldEngine")
    on_spark = deployable.kind == "glue" and etl.get("engine") == "spark"
    assert (
        permissions.missing_actions(deployable, statements(run, deployable), engine, on_spark) == []
    )


@pytest.mark.parametrize("deployable", DEPLOYABLES, ids=lambda d: d.package)
def test_metrics_go_only_to_the_declared_namespaces(run: StackRun, deployable: Deployable) -> None:
    fences = [
        s["Condition"]["StringEquals"]["cloudwatch:namespace"]
        for s in statements(run, deployable)
        if "cloudwatch:PutMetricData" in s["Action"]
    ]
    declared = permissions.declared(deployable).metrics_namespaces
    assert fences == ([declared[0]] if declared else [])


def test_the_jobs_and_the_collector_declare_where_they_publish() -> None:
    by_package = {d.package: permissions.declared(d).metrics_namespaces for d in DEPLOYABLES}
    assert by_package["todo-etl-silver"] == by_package["todo-etl-gold"] == (ETL_METRICS_NAMESPACE,)
    assert by_package["todo-metrics-collector"] == (METRICS_NAMESPACE,)


def test_a_missing_grant_stops_the_program() -> None:
    granted = [iam.allow(["dynamodb:GetItem"], ["arn:aws:dynamodb:::table/x"])]
    with pytest.raises(permissions.UngrantedActions, match="secretsmanager:GetSecretValue"):
        permissions.require_granted(TODO_API, granted)
    missing = permissions.missing_actions(TODO_API, granted)
    assert "dynamodb:GetItem" not in missing
    assert "dynamodb:PutItem" in missing


def test_the_athena_engine_needs_its_actions_only_when_chosen() -> None:
    athena = set(permissions.declared(ETL_GOLD).engine_actions["athena"])
    assert athena
    assert athena.isdisjoint(permissions.declared(ETL_GOLD).required())
    assert athena <= set(permissions.declared(ETL_GOLD).required("athena"))


def test_gold_on_athena_gets_the_engine_its_workgroup_and_the_permissions(artifacts_dir) -> None:  # type: ignore[no-untyped-def]
    """Athena is a Python-shell engine (dev's; staging runs Spark)."""
    config = deployable_config("dev")
    config["todo-platform:etl"] = {**config["todo-platform:etl"], "goldEngine": "athena"}
    run = run_program("dev", cli_config(config), artifacts_dir)
    names = ResourceNames("dev", ACCOUNT_ID, "us-east-1")
    args = run.named("gold-job").inputs["defaultArguments"]
    assert args["--ENGINE"] == "athena"
    assert args["--ATHENA_WORKGROUP"] == names.athena_workgroup
    query = {s["Sid"]: s for s in statements(run, ETL_GOLD)}["QueryInWorkgroup"]
    assert query["Resource"] == [
        f"arn:aws:athena:us-east-1:{ACCOUNT_ID}:workgroup/{names.athena_workgroup}"
    ]
    assert permissions.missing_actions(ETL_GOLD, statements(run, ETL_GOLD), "athena") == []
    assert "--ENGINE" not in run.named("silver-job").inputs["defaultArguments"]


def test_gold_off_athena_gets_no_athena_permissions(run: StackRun) -> None:
    """DuckDB in the job (Python shell) or Spark: nothing of Athena's."""
    args = run.named("gold-job").inputs["defaultArguments"]
    engine = deployable_config(run.stage)["todo-platform:etl"]["engine"]
    assert args["--ENGINE"] == {"pythonshell": "duckdb", "spark": "spark"}[engine]
    assert "--ATHENA_WORKGROUP" not in args
    actions = {a for s in statements(run, ETL_GOLD) for a in s["Action"]}
    assert not any(a.startswith("athena:") for a in actions)
