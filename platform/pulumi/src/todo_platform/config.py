"""The stack configuration, read once into typed, validated settings.

Every knob that differs between stages lives in ``Pulumi.<stage>.yaml`` under
the project's namespace (``todo-platform:<section>``), one structured object
per section. :func:`load_settings` is the only place that touches
``pulumi.Config``; components receive the resulting :class:`Settings` and never
read configuration themselves. Unknown keys are errors, so a typo in a stack
file fails the preview instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel, to_snake

from todo_core.naming import PROJECT

#: The Pulumi project name (``Pulumi.yaml``); also the configuration namespace.
PULUMI_PROJECT = "todo-platform"
#: Overrides where the built artifacts are read from (tests point it at a temp dir).
ARTIFACTS_DIR_ENV = "TODO_ARTIFACTS_DIR"
#: ``platform/pulumi`` - relative paths in the configuration are resolved against it.
PROJECT_DIR = Path(__file__).resolve().parents[2]
#: ``python3 noxfile.py -s build`` writes here by default.
DEFAULT_ARTIFACTS_DIR = PROJECT_DIR.parent.parent / "dist"

#: The retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)

#: Python-shell Glue jobs run on 1/16 or 1 DPU, nothing else.
PYTHON_SHELL_CAPACITIES = frozenset({0.0625, 1.0})
#: The configuration sections, as they are spelled in the stack files.
SECTIONS = (
    "tags",
    "logs",
    "data",
    "cognito",
    "api",
    "cdc",
    "kpiAggregator",
    "metricsCollector",
    "lake",
    "etl",
    "alarms",
    "alerts",
    "budget",
    "adopt",
    "secondaryRegion",
)
#: Stages whose alerts must reach a person: an unset (or placeholder) alert
#: address there is a configuration error, not a silent no-op.
PAGED_STAGES = frozenset({"staging", "prod"})
#: Domains reserved for documentation (RFC 2606): never a real inbox.
PLACEHOLDER_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
#: Where the lake jobs run (``etl.engine``): one Glue Python-shell worker, or Glue Spark.
ETL_ENGINES = ("pythonshell", "spark")
#: Gold's ``--ENGINE`` on each job engine, the first being the default: the
#: Python-shell worker runs gold's SQL in DuckDB (in the job) or in Athena (the
#: stage's workgroup); a Spark job runs it on Spark, and on nothing else (a
#: Spark cluster that only waits for Athena would be paid for nothing).
GOLD_ENGINES_BY_JOB_ENGINE = {"pythonshell": ("duckdb", "athena"), "spark": ("spark",)}
#: The engines the gold job can run its SQL on (``--ENGINE``), every job engine together.
GOLD_ENGINES = ("duckdb", "athena", "spark")
#: DPU per Glue Spark worker, for the worker types this program sizes jobs with.
SPARK_WORKER_DPU = {"G.1X": 1, "G.2X": 2}


#: An exact browser origin; wildcards are refused because every API call
#: carries a user's token, so the product names the web apps it trusts.
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class TagSettings(_Model):
    """The cost-allocation tags (Project and Environment are derived, not configured)."""

    owner: str = Field(min_length=1)
    cost_center: str = Field(min_length=1)


class LogSettings(_Model):
    retention_days: int

    @field_validator("retention_days")
    @classmethod
    def _valid_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {sorted(LOG_RETENTION_DAYS)}")
        return value


class DataSettings(_Model):
    deletion_protection: bool
    point_in_time_recovery: bool = True
    #: How long a scheduled KMS key deletion waits (7-30 days).
    kms_deletion_window_days: int = Field(ge=7, le=30)


class CognitoSettings(_Model):
    password_min_length: int = Field(ge=8, le=99)
    mfa: Literal["OFF", "OPTIONAL", "ON"] = "OFF"
    self_signup: bool = False
    id_token_validity_minutes: int = Field(default=60, ge=5, le=1440)
    access_token_validity_minutes: int = Field(default=60, ge=5, le=1440)
    refresh_token_validity_days: int = Field(default=30, ge=1, le=3650)


class FunctionSettings(_Model):
    memory_mb: int = Field(ge=128, le=10240)
    timeout_seconds: int = Field(ge=1, le=900)
    #: ``None`` leaves the function on the account's unreserved pool.
    reserved_concurrency: Optional[int] = Field(default=None, ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ApiSettings(_Model):
    function: FunctionSettings
    idempotency_ttl_seconds: int = Field(default=86400, ge=60)
    throttling_rate_limit: float = Field(gt=0)
    throttling_burst_limit: int = Field(gt=0)
    #: Serve ``GET /docs`` and ``GET /openapi.json`` without a token.
    public_docs: bool = False
    #: Browser origins (``scheme://host[:port]``) allowed to call the API. Empty:
    #: no CORS configuration, so browsers on other origins are refused.
    cors_allowed_origins: List[str] = Field(default_factory=list)
    #: Execution environments kept initialised (no cold start) on the ``live``
    #: alias the API integration invokes; 0: no alias, the integration invokes
    #: the function itself. Billed per GB-second whether used or not (README).
    provisioned_concurrency: int = Field(default=0, ge=0, le=3000)

    @model_validator(mode="after")
    def _provisioned_within_reserved(self) -> ApiSettings:
        reserved = self.function.reserved_concurrency
        if reserved is not None and self.provisioned_concurrency > reserved:
            raise ValueError(
                f"provisionedConcurrency ({self.provisioned_concurrency}) cannot exceed the "
                f"function's reservedConcurrency ({reserved})"
            )
        return self

    @field_validator("cors_allowed_origins")
    @classmethod
    def _explicit_origins(cls, origins: List[str]) -> List[str]:
        for origin in origins:
            match = _ORIGIN.fullmatch(origin)
            if match is None:
                raise ValueError(
                    f"CORS origin {origin!r} must be scheme://host[:port] "
                    "(no wildcard, path or trailing slash)"
                )
            if match["scheme"] == "http" and match["host"] not in _LOOPBACK_HOSTS:
                raise ValueError(f"CORS origin {origin!r}: plain http only for localhost")
        if len(set(origins)) != len(origins):
            raise ValueError("CORS origins are listed twice")
        return origins


class CdcSettings(_Model):
    function: FunctionSettings
    batch_size: int = Field(ge=1, le=10000)
    maximum_batching_window_seconds: int = Field(ge=0, le=300)
    #: -1 retries until the record is older than ``maximum_record_age_seconds``:
    #: an outage is ridden out by age, not by a count that runs out in seconds
    #: (the DLQ only points at stream ranges, which the stream trims after 24 h).
    maximum_retry_attempts: int = Field(ge=-1, le=10000)
    maximum_record_age_seconds: int = Field(ge=60, le=604800)
    parallelization_factor: int = Field(default=1, ge=1, le=10)


class KpiAggregatorSettings(_Model):
    """The stream's second reader (exact KPI counters).

    Its mapping retries a failing batch a bounded number of times and never
    drops a record by age: the counters must see every change exactly once,
    and a parked record is replayed from the DLQ's stream range. A tumbling
    window is required (only windowed events name their shard, which keys the
    checkpoint); one invocation per shard keeps the checkpoint uncontended.
    """

    function: FunctionSettings
    batch_size: int = Field(ge=1, le=10000)
    maximum_batching_window_seconds: int = Field(ge=0, le=300)
    tumbling_window_seconds: int = Field(ge=1, le=900)
    maximum_retry_attempts: int = Field(ge=0, le=10000)


class MetricsCollectorSettings(_Model):
    function: FunctionSettings
    schedule_expression: str = Field(pattern=r"^(rate|cron)\(.+\)$")


class LifecycleSettings(_Model):
    """One layer's storage-class schedule (days after object creation)."""

    infrequent_access_days: Optional[int] = Field(default=None, ge=30)
    glacier_days: Optional[int] = Field(default=None, ge=1)
    #: GLACIER_IR keeps objects queryable by Athena; GLACIER does not.
    glacier_storage_class: Literal["GLACIER", "GLACIER_IR"] = "GLACIER"
    deep_archive_days: Optional[int] = Field(default=None, ge=1)
    expiration_days: Optional[int] = Field(default=None, ge=1)
    noncurrent_version_expiration_days: int = Field(default=90, ge=1)

    @model_validator(mode="after")
    def _ascending(self) -> LifecycleSettings:
        days = [
            d
            for d in (
                self.infrequent_access_days,
                self.glacier_days,
                self.deep_archive_days,
                self.expiration_days,
            )
            if d is not None
        ]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError("lifecycle days must increase: IA < Glacier < Deep Archive < expiry")
        return self


class LakeSettings(_Model):
    force_destroy: bool
    bronze: LifecycleSettings
    silver: LifecycleSettings
    gold: LifecycleSettings
    artifacts_noncurrent_version_expiration_days: int = Field(default=30, ge=1)
    athena_results_expiration_days: int = Field(default=30, ge=1)
    firehose_buffering_interval_seconds: int = Field(ge=0, le=900)
    firehose_buffering_size_mb: int = Field(ge=1, le=128)


class SparkWorkers(_Model):
    """One Glue Spark job's workers (G.1X: 4 vCPU, 16 GB; G.2X: 8 vCPU, 32 GB).

    One worker runs the Spark driver, the others one executor each; with
    auto scaling (always on) this is the most a run may use.
    """

    worker_type: Literal["G.1X", "G.2X"] = "G.1X"
    #: Glue's minimum for these worker types is 2 (the driver and one executor).
    number_of_workers: int = Field(default=2, ge=2, le=299)

    @property
    def dpu(self) -> int:
        """DPUs a run holds at its widest (what an hour of it is billed)."""
        return SPARK_WORKER_DPU[self.worker_type] * self.number_of_workers


class SparkSettings(_Model):
    """The workers of each Spark job (silver reads bronze JSON, gold reads silver Parquet)."""

    silver: SparkWorkers = Field(default_factory=SparkWorkers)
    gold: SparkWorkers = Field(default_factory=SparkWorkers)

    def of_job(self, resource_key: str) -> SparkWorkers:
        """The workers of the job whose deployable's resource key is ``resource_key``."""
        return {"silver": self.silver, "gold": self.gold}[resource_key]


class EtlSettings(_Model):
    """The lake jobs: their engine, its size, and what both engines share.

    ``engine`` chooses the Glue job type of silver and gold alike:
    ``pythonshell`` (one worker of ``glueMaxCapacity`` DPU, Python 3.9) or
    ``spark`` (Glue 5 ``glueetl`` jobs sized by ``spark``, Python 3.11). Each
    size is given only for the engine that uses it, and ``goldEngine`` only
    as that engine allows (:data:`GOLD_ENGINES_BY_JOB_ENGINE`): a stack file
    says exactly what the stage runs.
    """

    engine: Literal["pythonshell", "spark"] = "pythonshell"
    #: Python shell only: 1/16 or 1 DPU.
    glue_max_capacity: float = 0.0625
    #: Spark only: each job's worker type and count.
    spark: SparkSettings = Field(default_factory=SparkSettings)
    glue_timeout_minutes: int = Field(ge=1, le=2880)
    glue_max_retries: int = Field(default=0, ge=0, le=10)
    schedule: str = Field(pattern=r"^cron\(.+\)$")
    schedule_enabled: bool = True
    athena_bytes_scanned_cutoff: int = Field(ge=10 * 1024 * 1024)
    #: Where gold runs its SQL. Python shell: in the job (``duckdb``, the
    #: default) or in Athena (``athena``: the stage's workgroup; the job role
    #: then gets the Athena permissions). Spark: ``spark`` only (the default).
    gold_engine: Optional[Literal["duckdb", "athena", "spark"]] = None

    @field_validator("glue_max_capacity")
    @classmethod
    def _python_shell_capacity(cls, value: float) -> float:
        if value not in PYTHON_SHELL_CAPACITIES:
            raise ValueError(f"Python-shell jobs accept only {sorted(PYTHON_SHELL_CAPACITIES)} DPU")
        return value

    @model_validator(mode="after")
    def _settings_of_the_engine_only(self) -> EtlSettings:
        other = {"pythonshell": "spark", "spark": "glueMaxCapacity"}[self.engine]
        if to_snake(other) in self.model_fields_set:
            raise ValueError(
                f"etl.{other} sizes the other engine; with etl.engine {self.engine} "
                f"remove it (Python shell: glueMaxCapacity; Spark: spark.silver/spark.gold)"
            )
        valid = GOLD_ENGINES_BY_JOB_ENGINE[self.engine]
        if self.gold_engine is not None and self.gold_engine not in valid:
            raise ValueError(
                f"etl.goldEngine {self.gold_engine} cannot run on etl.engine {self.engine}: "
                f"valid there: {', '.join(valid)} (duckdb and athena run on the Python-shell "
                "worker, spark on Glue Spark)"
            )
        return self

    @property
    def gold_job_engine(self) -> str:
        """Gold's ``--ENGINE``: the configured one, or the job engine's default."""
        return self.gold_engine or GOLD_ENGINES_BY_JOB_ENGINE[self.engine][0]


class AlarmSettings(_Model):
    api_5xx_per_minute: float = Field(default=1, alias="api5xxPerMinute")
    api_latency_p95_ms: float = 500
    api_4xx_per_period: float = Field(default=10, alias="api4xxPerPeriod")
    lambda_errors: float = 5
    lambda_duration_ms: float = 5000
    iterator_age_ms: float = 60000
    firehose_freshness_seconds: float = 900
    dynamodb_cost_usd: float = 50
    lambda_cost_usd: float = 20
    #: Average delay of writes reaching the table's replica (second region only).
    table_replication_latency_ms: float = 60000


class AlertSettings(_Model):
    #: Subscribed to the alert topic when set (the address must confirm it).
    email: Optional[str] = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class BudgetSettings(_Model):
    """A monthly AWS Budget over this stage's costs (its Environment tag)."""

    monthly_limit_usd: float = Field(gt=0)
    #: Percentages of the limit that notify the alert topic (runbook: 80 % and 100 %).
    alert_thresholds_percent: List[float] = Field(default_factory=lambda: [80.0, 100.0])

    @field_validator("alert_thresholds_percent")
    @classmethod
    def _sorted_percentages(cls, values: List[float]) -> List[float]:
        if not values or values != sorted(set(values)) or not all(0 < v <= 1000 for v in values):
            raise ValueError("thresholds must be increasing percentages (0-1000], e.g. [80, 100]")
        return values


class AdoptSettings(_Model):
    """Live resources of the CDK deployment that this stack takes over instead of creating.

    ``table``: the live table's name (for example ``todo-app-data``);
    ``user_pool_id``: the live user pool's id. While ``importing`` is on, the
    program declares them with Pulumi's ``import`` option (the resource is
    read, never created) and leaves the properties the CDK version set
    differently alone; turn it off after the first successful ``pulumi up``.
    """

    table: Optional[str] = Field(default=None, min_length=3, max_length=255)
    user_pool_id: Optional[str] = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$"
    )
    importing: bool = False


_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"


class FailoverSettings(_Model):
    """DNS failover between the two regions' APIs (optional: needs a hosted zone and a name).

    ``domain_name`` is served by a health-checked PRIMARY record (the stage's
    region) and a SECONDARY record (the standby region) in ``hosted_zone_id``;
    each region gets an ACM certificate for it, validated in that zone.
    """

    hosted_zone_id: str = Field(pattern=r"^Z[A-Z0-9]{1,32}$")
    domain_name: str = Field(pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
    #: Route 53 checks every 10 or 30 seconds; failover after this many failures.
    health_check_interval_seconds: Literal[10, 30] = 30
    failure_threshold: int = Field(default=3, ge=1, le=10)


class SecondaryRegionSettings(_Model):
    """Disaster recovery in a second region (README, "Disaster recovery").

    When enabled: the table becomes a global table with a replica there, the
    bronze bucket replicates into a bucket there, the stage's secrets are
    replicated there, and a warm-standby API runs there.
    """

    enabled: bool = False
    region: Optional[str] = Field(default=None, pattern=_REGION)
    replicate_table: bool = True
    replicate_bronze: bool = True
    #: S3 Replication Time Control: 99.99 % of objects within 15 minutes (extra cost).
    replication_time_control: bool = True
    standby_api: bool = True
    failover: Optional[FailoverSettings] = None

    @model_validator(mode="after")
    def _complete(self) -> SecondaryRegionSettings:
        if self.enabled and not self.region:
            raise ValueError("secondaryRegion.enabled needs secondaryRegion.region")
        if self.failover and not (self.enabled and self.standby_api):
            raise ValueError("secondaryRegion.failover needs the standby API (enabled, standbyApi)")
        if self.standby_api and self.enabled and not self.replicate_table:
            raise ValueError("the standby API serves the table's replica: replicateTable is needed")
        return self


class Settings(_Model):
    """Everything a stage is deployed with."""

    stage: str
    region: str
    project: str = PROJECT
    lambda_architecture: Literal["x86_64", "arm64"] = "x86_64"
    artifacts_dir: Path
    tags: TagSettings
    logs: LogSettings
    data: DataSettings
    cognito: CognitoSettings
    api: ApiSettings
    cdc: CdcSettings
    kpi_aggregator: KpiAggregatorSettings
    metrics_collector: MetricsCollectorSettings
    lake: LakeSettings
    etl: EtlSettings
    alarms: AlarmSettings
    alerts: AlertSettings
    budget: BudgetSettings
    adopt: AdoptSettings = Field(default_factory=AdoptSettings)
    secondary_region: SecondaryRegionSettings = Field(default_factory=SecondaryRegionSettings)

    @model_validator(mode="after")
    def _two_distinct_regions(self) -> Settings:
        if self.standby_region == self.region:
            raise ValueError(f"secondaryRegion.region must differ from the stage's ({self.region})")
        return self

    @property
    def standby_region(self) -> Optional[str]:
        """The second region, when this stage has one."""
        second = self.secondary_region
        return second.region if second.enabled else None

    @model_validator(mode="after")
    def _someone_is_paged(self) -> Settings:
        if self.stage not in PAGED_STAGES:
            return self
        email = self.alerts.email
        if not email:
            raise ValueError(
                f"stage {self.stage} needs an alert address: pulumi config set "
                f"--path 'todo-platform:alerts.email' <address> --stack {self.stage}"
            )
        if email.rsplit("@", 1)[-1].lower() in PLACEHOLDER_EMAIL_DOMAINS:
            raise ValueError(
                f"alerts.email {email!r} is a placeholder; set the team's real address"
            )
        return self

    @property
    def default_tags(self) -> Dict[str, str]:
        """The four tags every taggable resource carries."""
        return {
            "Project": self.project,
            "Owner": self.tags.owner,
            "Environment": self.stage,
            "CostCenter": self.tags.cost_center,
        }


def resolve_artifacts_dir(configured: Optional[str]) -> Path:
    """The environment variable wins over the stack setting, which wins over ``dist/``."""
    raw = os.environ.get(ARTIFACTS_DIR_ENV) or configured
    if not raw:
        return DEFAULT_ARTIFACTS_DIR
    path = Path(raw)
    return path if path.is_absolute() else (PROJECT_DIR / path).resolve()


def settings_from_mapping(
    stage: str,
    region: str,
    sections: Dict[str, Any],
    artifacts_dir: Optional[str] = None,
    lambda_architecture: Optional[str] = None,
) -> Settings:
    """Build and validate :class:`Settings` from plain values (the stack file's shape)."""
    data: Dict[str, Any] = dict(sections)
    data.update(stage=stage, region=region, artifacts_dir=resolve_artifacts_dir(artifacts_dir))
    if lambda_architecture:
        data["lambdaArchitecture"] = lambda_architecture
    return Settings.model_validate(data)


def load_settings() -> Settings:
    """Read the current stack's configuration: the only call of ``pulumi.Config``."""
    config = pulumi.Config(PULUMI_PROJECT)
    region = pulumi.Config("aws").require("region")
    stage = config.get("stage") or pulumi.get_stack()
    sections = {}
    for name in SECTIONS:
        value = config.get_object(name)
        if value is not None:
            sections[name] = value
    return settings_from_mapping(
        stage,
        region,
        sections,
        artifacts_dir=config.get("artifactsDir"),
        lambda_architecture=config.get("lambdaArchitecture"),
    )
