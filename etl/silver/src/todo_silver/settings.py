"""The silver job's arguments, validated."""

from __future__ import annotations

from typing import Dict, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from todo_silver.args import as_bool, parse_glue_args
from todo_silver.observability import ETL_METRICS_NAMESPACE


class SilverSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: ``s3://bucket`` or a bucket name; ``file:///dir`` reads a local copy.
    bronze_bucket: str = Field(min_length=1)
    silver_bucket: str = Field(min_length=1)
    database_name: str = Field(min_length=1)
    stage: Optional[str] = None
    #: Forget what was processed and rebuild silver from all of bronze.
    full_refresh: bool = False
    #: Bronze (uncompressed JSON) read per chunk; bounds the memory of a run.
    chunk_mb: int = Field(default=32, ge=1, le=1024)
    #: Threads parsing bronze objects ahead of the job (the machine's cores).
    parse_threads: int = Field(default=2, ge=1, le=16)
    #: DuckDB's memory limit; beyond it the work tables spill to local disk.
    duckdb_memory_mb: int = Field(default=256, ge=64)
    publish_metrics: bool = True
    metrics_namespace: str = ETL_METRICS_NAMESPACE

    @property
    def chunk_bytes(self) -> int:
        return self.chunk_mb << 20

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> SilverSettings:
        args: Dict[str, str] = parse_glue_args(argv)
        missing = [n for n in ("BRONZE_BUCKET", "SILVER_BUCKET", "DATABASE_NAME") if n not in args]
        if missing:
            raise SystemExit(f"missing job arguments: {', '.join('--' + m for m in missing)}")
        values = {
            "bronze_bucket": args["BRONZE_BUCKET"],
            "silver_bucket": args["SILVER_BUCKET"],
            "database_name": args["DATABASE_NAME"],
            "stage": args.get("STAGE"),
            "full_refresh": as_bool(args.get("FULL_REFRESH")),
            "publish_metrics": as_bool(args.get("PUBLISH_METRICS"), True),
        }
        if "CHUNK_MB" in args:
            values["chunk_mb"] = int(args["CHUNK_MB"])
        if "PARSE_THREADS" in args:
            values["parse_threads"] = int(args["PARSE_THREADS"])
        if "DUCKDB_MEMORY_MB" in args:
            values["duckdb_memory_mb"] = int(args["DUCKDB_MEMORY_MB"])
        if "METRICS_NAMESPACE" in args:
            values["metrics_namespace"] = args["METRICS_NAMESPACE"]
        return cls(**values)
