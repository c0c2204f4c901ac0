"""Resource names per stage: the only place that spells them.

Names follow the operations runbook (``todo-app-data``, ``todo-cdc-stream``,
``todo_analytics`` ...) with the stage appended, so several stages can share
one AWS account. S3 bucket names are global, so they also carry the account
and region, as the runbook's do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROJECT = "todo-api-with-insights"
#: The custom-metrics namespace operators watch (runbook "Business Metrics").
METRICS_NAMESPACE = "TodoApi/CustomMetrics"
#: CloudWatch namespace of the ETL jobs' run metrics (silver and gold publish here).
ETL_METRICS_NAMESPACE = "TodoApi/ETL"
#: The stage name the local stack uses.
LOCAL_STAGE = "local"
#: moto's default account id; any 12 digits work against the emulator.
LOCAL_ACCOUNT_ID = "123456789012"

#: Stack outputs, named as the runbook's CDK outputs. ``pulumi stack output
#: --json`` and the local stack's ``.local/outputs.json`` both use these names.
OUTPUT_NAMES = (
    "TableName",
    "TableArn",
    "ApiEndpoint",
    "UserPoolId",
    "UserPoolClientId",
    "BronzeBucketName",
    "SilverBucketName",
    "GoldBucketName",
    "FirehoseStreamName",
    "LogsFirehoseStreamName",
    "GlueDatabaseName",
    "AthenaWorkgroupName",
    "DashboardUrl",
    "AlertTopicArn",
)

#: Outputs only a stack with a second region has (``secondaryRegion`` in its
#: stack file): the warm standby's endpoint, its region, and the failover URL
#: when a hosted zone and domain are configured.
SECONDARY_REGION_OUTPUT_NAMES = ("StandbyRegion", "StandbyApiEndpoint", "FailoverApiUrl")


def pii_database_of(database: str) -> str:
    """The Glue database that holds the clear-text PII tables belonging to ``database``."""
    return database + "_pii"


_STAGE_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")


@dataclass(frozen=True)
class ResourceNames:
    """Every named resource of one stage in one account and region."""

    stage: str
    account_id: str
    region: str

    def __post_init__(self) -> None:
        if not _STAGE_RE.match(self.stage):
            raise ValueError(
                f"stage {self.stage!r} must be 2-12 lower-case letters or digits, "
                "starting with a letter"
            )
        if not re.fullmatch(r"\d{12}", self.account_id):
            raise ValueError(f"account id {self.account_id!r} must be 12 digits")

    def _dashed(self, base: str) -> str:
        return f"{base}-{self.stage}"

    def _bucket(self, layer: str) -> str:
        return f"todo-{layer}-{self.account_id}-{self.region}-{self.stage}"

    # data
    @property
    def table(self) -> str:
        return self._dashed("todo-app-data")

    # api
    @property
    def api(self) -> str:
        return self._dashed("todo-api")

    @property
    def user_pool(self) -> str:
        return self._dashed("todo-api-user-pool")

    @property
    def user_pool_client(self) -> str:
        return self._dashed("todo-api-client")

    @property
    def api_function(self) -> str:
        return self._dashed("todo-api-handler")

    # data lake
    @property
    def bronze_bucket(self) -> str:
        return self._bucket("bronze")

    @property
    def silver_bucket(self) -> str:
        return self._bucket("silver")

    @property
    def gold_bucket(self) -> str:
        return self._bucket("gold")

    @property
    def artifacts_bucket(self) -> str:
        return self._bucket("artifacts")

    @property
    def cdc_delivery_stream(self) -> str:
        return self._dashed("todo-cdc-stream")

    @property
    def logs_delivery_stream(self) -> str:
        return self._dashed("todo-logs-stream")

    @property
    def cdc_function(self) -> str:
        return self._dashed("todo-cdc-processor")

    @property
    def kpi_function(self) -> str:
        """The KPI aggregator: the stream's second consumer (business KPI counters)."""
        return self._dashed("todo-kpi-aggregator")

    @property
    def kpi_dead_letter_queue(self) -> str:
        return self._dashed("todo-kpi-dlq")

    @property
    def glue_database(self) -> str:
        return f"todo_analytics_{self.stage}"

    @property
    def glue_pii_database(self) -> str:
        """Silver's tables with clear-text personal data, granted apart from the rest."""
        return pii_database_of(self.glue_database)

    @property
    def silver_job(self) -> str:
        return self._dashed("todo-silver-transformation")

    @property
    def gold_job(self) -> str:
        return self._dashed("todo-gold-analytics")

    @property
    def athena_workgroup(self) -> str:
        return self._dashed("todo-analytics-workgroup")

    # monitoring
    @property
    def metrics_function(self) -> str:
        return self._dashed("todo-custom-metrics")

    @property
    def dashboard(self) -> str:
        return f"TodoApiMonitoring-{self.stage}"

    @property
    def alert_topic(self) -> str:
        return self._dashed("todo-api-alerts")

    @property
    def cdc_dead_letter_queue(self) -> str:
        return self._dashed("todo-cdc-dlq")

    @property
    def api_log_group(self) -> str:
        return f"/aws/lambda/{self.api_function}"

    # names the Pulumi program gives the resources around the runbook's ones
    @property
    def logs_key_alias(self) -> str:
        return self._dashed("todo-logs")

    @property
    def lake_key_alias(self) -> str:
        return self._dashed("todo-lake")

    @property
    def secrets_key_alias(self) -> str:
        return self._dashed("todo-secrets")

    @property
    def api_access_log_group(self) -> str:
        return f"/aws/apigateway/{self.api}/access"

    @property
    def jwt_authorizer(self) -> str:
        return f"{self.user_pool}-jwt"

    @property
    def api_logs_subscription(self) -> str:
        return self.function_logs_subscription(self.api_function)

    @staticmethod
    def function_logs_subscription(function_name: str) -> str:
        """The subscription filter that sends a function's log group to bronze."""
        return f"{function_name}-to-lake"

    @property
    def api_alias(self) -> str:
        """The alias the API integration invokes (it carries the provisioned concurrency)."""
        return "live"

    @property
    def bronze_replication_rule(self) -> str:
        return "bronze-to-standby-region"

    @property
    def api_health_check(self) -> str:
        return f"{self.api}-health"

    @staticmethod
    def function_log_group(function_name: str) -> str:
        """Lambda's own convention for a function's log group."""
        return f"/aws/lambda/{function_name}"

    @staticmethod
    def delivery_stream_log_group(stream_name: str) -> str:
        return f"/aws/kinesisfirehose/{stream_name}"

    @property
    def lake_workflow(self) -> str:
        return self._dashed("todo-lake-refresh")

    @property
    def silver_schedule_trigger(self) -> str:
        return f"{self.silver_job}-schedule"

    @property
    def gold_after_silver_trigger(self) -> str:
        return f"{self.gold_job}-after-silver"

    @property
    def glue_failure_rule(self) -> str:
        return self._dashed("todo-lake-jobs-failed")

    @property
    def glue_success_rule(self) -> str:
        return self._dashed("todo-lake-jobs-succeeded")

    @property
    def metrics_schedule(self) -> str:
        return f"{self.metrics_function}-schedule"

    @property
    def billing_alert_topic(self) -> str:
        """Billing alarms live in us-east-1 and notify a topic of their own region."""
        return f"{self.alert_topic}-billing"

    @staticmethod
    def alarm(subject: str, condition: str) -> str:
        """``todo-api-dev`` + ``5xx`` -> ``todo-api-dev-5xx``."""
        return f"{subject}-{condition}"

    def cost_alarm(self, service_key: str) -> str:
        return f"todo-{service_key}-cost-{self.stage}"

    @property
    def budget(self) -> str:
        return self._dashed("todo-monthly-budget")

    # secrets (Secrets Manager; AWSCURRENT and AWSPREVIOUS both accepted while
    # a rotation is under way)
    @property
    def cursor_signing_secret(self) -> str:
        """The key that signs the API's pagination cursors (read by the API only)."""
        return f"todo-app/{self.stage}/cursor-signing-key"

    @property
    def pii_hmac_secret(self) -> str:
        """The key of the keyed hash that pseudonymises PII in the lake (ETL jobs only)."""
        return f"todo-app/{self.stage}/pii-hmac-key"
