"""Settings: every committed stack file validates; mistakes fail loudly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from harness import PROJECT_DIR, STAGES, deployable_config, stack_file_config
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from ruamel.yaml import YAML

from todo_platform import config as cfg
from todo_platform.config import LifecycleSettings, Settings, settings_from_mapping


def sections(stage: str) -> Dict[str, Any]:
    raw = deployable_config(stage)
    return {
        k.split(":", 1)[1]: v
        for k, v in raw.items()
        if k.startswith("todo-platform:") and isinstance(v, dict)
    }


def settings(stage: str, mutate=None, **kwargs: Any) -> Settings:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(sections(stage))
    if mutate:
        mutate(data)
    return settings_from_mapping(stage, "us-east-1", data, **kwargs)


@pytest.mark.parametrize("stage", STAGES)
def test_committed_stack_files_validate(stage: str) -> None:
    s = settings(stage)
    assert s.stage == stage
    assert s.region == "us-east-1"
    assert s.lambda_architecture == "x86_64"
    assert s.default_tags == {
        "Project": "todo-api-with-insights",
        "Owner": "platform-team",
        "Environment": stage,
        "CostCenter": "engineering-platform",
    }
    assert set(sections(stage)) == set(cfg.SECTIONS)
    assert stack_file_config(stage)["aws:region"] == "us-east-1"


def test_stack_files_hold_no_plaintext_secrets() -> None:
    for stage in STAGES:
        text = json.dumps(stack_file_config(stage)).lower()
        assert "secret" not in text
        assert "password" not in text.replace("passwordminlength", "")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["api"]["function"].update(memoryMb=64), "memoryMb"),
        (lambda d: d["api"].update(throttlingRateLimt=5), "throttlingRateLimt"),
        (lambda d: d["logs"].update(retentionDays=10), "retention"),
        (lambda d: d["etl"].update(glueMaxCapacity=0.5), "glueMaxCapacity"),
        (lambda d: d["alerts"].update(email="not-an-address"), "email"),
        (lambda d: d["lake"]["bronze"].update(glacierDays=20), "increase"),
        (lambda d: d.pop("alarms"), "alarms"),
        (lambda d: d["api"].update(corsAllowedOrigins=["*"]), "wildcard"),
        (lambda d: d["api"].update(corsAllowedOrigins=["https://app.example.com/"]), "slash"),
        (lambda d: d["api"].update(corsAllowedOrigins=["http://app.example.com"]), "localhost"),
        (
            lambda d: d["api"].update(
                corsAllowedOrigins=["https://a.example", "https://a.example"]
            ),
            "twice",
        ),
        (
            lambda d: d["metricsCollector"].update(scheduleExpression="every 5 minutes"),
            "scheduleExpression",
        ),
    ],
    ids=[
        "tiny-memory",
        "typo",
        "retention",
        "glue-capacity",
        "email",
        "lifecycle-order",
        "missing",
        "cors-wildcard",
        "cors-path",
        "cors-plain-http",
        "cors-duplicate",
        "schedule",
    ],
)
def test_mistakes_in_a_stack_file_are_rejected(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=field):
        settings("dev", mutate)


def test_artifacts_dir_env_beats_config_beats_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(cfg.ARTIFACTS_DIR_ENV, raising=False)
    assert settings("dev").artifacts_dir == cfg.DEFAULT_ARTIFACTS_DIR
    assert cfg.PROJECT_DIR.parent.parent / "dist" == cfg.DEFAULT_ARTIFACTS_DIR
    assert (
        settings("dev", artifacts_dir="build/out").artifacts_dir
        == cfg.PROJECT_DIR / "build" / "out"
    )
    monkeypatch.setenv(cfg.ARTIFACTS_DIR_ENV, str(tmp_path))
    assert settings("dev", artifacts_dir="build/out").artifacts_dir == tmp_path


def test_architecture_override_is_validated() -> None:
    assert settings("dev", lambda_architecture="arm64").lambda_architecture == "arm64"
    with pytest.raises(ValidationError):
        settings("dev", lambda_architecture="sparc")


days = st.one_of(st.none(), st.integers(min_value=30, max_value=4000))


@given(ia=days, glacier=days, deep=days, expiry=days)
def test_lifecycle_accepts_exactly_increasing_schedules(
    ia: Optional[int], glacier: Optional[int], deep: Optional[int], expiry: Optional[int]
) -> None:
    given_days = [d for d in (ia, glacier, deep, expiry) if d is not None]
    increasing = all(a < b for a, b in zip(given_days, given_days[1:]))
    values = {
        "infrequentAccessDays": ia,
        "glacierDays": glacier,
        "deepArchiveDays": deep,
        "expirationDays": expiry,
    }
    if increasing:
        LifecycleSettings.model_validate(values)
    else:
        with pytest.raises(ValidationError):
            LifecycleSettings.model_validate(values)


def test_project_file_names_the_config_namespace_and_the_entry_point() -> None:

    project = YAML(typ="safe", pure=True).load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == cfg.PULUMI_PROJECT
    assert project["runtime"]["name"] == "python"
    assert (PROJECT_DIR / project["main"]).is_file()
    for stage in STAGES:
        namespaces = {key.split(":", 1)[0] for key in stack_file_config(stage)}
        assert namespaces == {"aws", cfg.PULUMI_PROJECT}


# --- the lake jobs' engine ----------------------------------------------------------------------

ETL_BASE = {
    "glueTimeoutMinutes": 60,
    "schedule": "cron(15 2 * * ? *)",
    "athenaBytesScannedCutoff": 10 * 1024 * 1024,
}


def etl_settings(**values: Any) -> cfg.EtlSettings:
    return cfg.EtlSettings.model_validate({**ETL_BASE, **values})


def test_without_an_engine_a_stage_stays_on_the_python_shell_worker() -> None:
    """Stack files written before the Spark engine keep deploying exactly what they did."""
    etl = etl_settings(glueMaxCapacity=0.0625)
    assert (etl.engine, etl.glue_max_capacity, etl.gold_job_engine) == (
        "pythonshell",
        0.0625,
        "duckdb",
    )


def test_a_spark_stage_sizes_each_job_and_runs_gold_on_spark() -> None:
    etl = etl_settings(
        engine="spark",
        spark={"silver": {"workerType": "G.2X", "numberOfWorkers": 10}},
    )
    assert etl.gold_job_engine == "spark"
    assert (etl.spark.silver.worker_type, etl.spark.silver.number_of_workers) == ("G.2X", 10)
    assert etl.spark.silver.dpu == 20
    # Unsized jobs get Glue's smallest Spark job: a driver and one executor.
    assert (etl.spark.gold.worker_type, etl.spark.gold.number_of_workers, etl.spark.gold.dpu) == (
        "G.1X",
        2,
        2,
    )
    assert etl.spark.of_job("silver") is etl.spark.silver


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"engine": "spark", "glueMaxCapacity": 0.0625}, "glueMaxCapacity sizes the other engine"),
        ({"spark": {"silver": {"numberOfWorkers": 4}}}, "spark sizes the other engine"),
        (
            {"engine": "spark", "goldEngine": "duckdb"},
            "goldEngine duckdb cannot run on etl.engine spark",
        ),
        ({"engine": "spark", "goldEngine": "athena"}, "valid there: spark"),
        ({"goldEngine": "spark"}, "valid there: duckdb, athena"),
        ({"engine": "emr"}, "engine"),
        ({"engine": "spark", "spark": {"gold": {"workerType": "G.4X"}}}, "workerType"),
        ({"engine": "spark", "spark": {"gold": {"numberOfWorkers": 1}}}, "numberOfWorkers"),
        ({"engine": "spark", "spark": {"bronze": {}}}, "bronze"),
    ],
    ids=[
        "spark-with-dpu",
        "shell-with-workers",
        "spark-duckdb",
        "spark-athena",
        "shell-spark-gold",
        "unknown-engine",
        "worker-type",
        "one-worker",
        "unknown-job",
    ],
)
def test_an_engine_setting_the_engine_cannot_use_is_refused(
    values: Dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        etl_settings(**values)


@given(
    engine=st.sampled_from(cfg.ETL_ENGINES),
    gold=st.one_of(st.none(), st.sampled_from(cfg.GOLD_ENGINES)),
)
def test_gold_engines_are_valid_exactly_on_their_job_engine(
    engine: str, gold: Optional[str]
) -> None:
    values: Dict[str, Any] = {"engine": engine}
    if gold is not None:
        values["goldEngine"] = gold
    valid = cfg.GOLD_ENGINES_BY_JOB_ENGINE[engine]
    if gold is None or gold in valid:
        assert etl_settings(**values).gold_job_engine == (gold or valid[0])
    else:
        with pytest.raises(ValidationError, match=r"cannot run on etl\.engine"):
            etl_settings(**values)


def test_every_gold_engine_runs_on_exactly_one_job_engine() -> None:
    """No gold engine is left without a job engine, none is offered by two."""
    by_engine = cfg.GOLD_ENGINES_BY_JOB_ENGINE
    assert set(by_engine) == set(cfg.ETL_ENGINES)
    flat = [gold for engines in by_engine.values() for gold in engines]
    assert sorted(flat) == sorted(cfg.GOLD_ENGINES)
    assert len(set(flat)) == len(flat)
