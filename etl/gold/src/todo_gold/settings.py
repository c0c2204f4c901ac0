"""The gold job's arguments, validated."""

from __future__ import annotations

import datetime as dt
from typing import Dict, Optional, Sequence

from pydantic import Field, field_validator

from todo_gold.pii import MODES
from todo_lake.args import JobSettings, as_bool, common_settings, parse_glue_args, require

#: Where the SQL runs. ``spark`` is the Glue Spark job (``todo_lake_spark.gold_job``),
#: which passes its own engine to :class:`todo_gold.job.GoldJob`.
ENGINES = ("duckdb", "athena", "spark")


class GoldSettings(JobSettings):
    gold_bucket: str = Field(min_length=1)
    engine: str = "duckdb"
    athena_workgroup: Optional[str] = None
    #: The moment the KPI snapshot describes (default: the start of the run).
    as_of: Optional[dt.datetime] = None
    #: Recompute daily metrics only from this many days back (default: all).
    since_days: Optional[int] = Field(default=None, ge=0)
    #: Personal data in gold (``pii``): keyed HMACs, or clear only when asked.
    pii_mode: str = "hmac"
    pii_hmac_secret_id: Optional[str] = None
    #: The input-collapse guard (``collapse_guard``): the largest fraction of
    #: the expected totals that may go missing, and the override for a reset.
    max_input_drop: float = Field(default=0.5, gt=0.0, le=1.0)
    allow_input_collapse: bool = False
    duckdb_memory_mb: int = Field(default=512, ge=64)

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}")
        return value

    @field_validator("pii_mode")
    @classmethod
    def _pii_mode(cls, value: str) -> str:
        if value not in MODES:
            raise ValueError(f"PII mode must be one of {MODES}")
        return value

    @field_validator("as_of")
    @classmethod
    def _utc(cls, value: Optional[dt.datetime]) -> Optional[dt.datetime]:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> GoldSettings:
        args: Dict[str, str] = parse_glue_args(argv)
        require(args, ("SILVER_BUCKET", "GOLD_BUCKET", "DATABASE_NAME"))
        values: Dict[str, object] = {
            **common_settings(args),
            "silver_bucket": args["SILVER_BUCKET"],
            "gold_bucket": args["GOLD_BUCKET"],
            "database_name": args["DATABASE_NAME"],
            "engine": args.get("ENGINE", "duckdb").lower(),
            "athena_workgroup": args.get("ATHENA_WORKGROUP"),
            "pii_mode": args.get("PII_MODE", "hmac").lower(),
            "pii_hmac_secret_id": args.get("PII_HMAC_SECRET_ID") or None,
        }
        if args.get("AS_OF"):
            values["as_of"] = dt.datetime.fromisoformat(args["AS_OF"].replace("Z", "+00:00"))
        if args.get("MAX_INPUT_DROP"):
            values["max_input_drop"] = float(args["MAX_INPUT_DROP"])
        values["allow_input_collapse"] = as_bool(args.get("ALLOW_INPUT_COLLAPSE"), False)
        if args.get("SINCE_DAYS"):
            values["since_days"] = int(args["SINCE_DAYS"])
        return cls(**values)  # type: ignore[arg-type]
