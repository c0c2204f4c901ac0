"""The silver job's arguments, validated."""

from __future__ import annotations

from typing import Dict, Sequence

from pydantic import Field

from todo_lake.args import JobSettings, as_bool, common_settings, parse_glue_args, require
from todo_silver.state_merge import DEFAULT_MERGE_MB


class SilverSettings(JobSettings):
    #: ``s3://bucket`` or a bucket name; ``file:///dir`` reads a local copy.
    bronze_bucket: str = Field(min_length=1)
    #: Forget what was processed and rebuild silver from all of bronze.
    full_refresh: bool = False
    #: Bronze (uncompressed JSON) read per chunk; bounds the memory of a run.
    chunk_mb: int = Field(default=32, ge=1, le=1024)
    #: Threads parsing bronze objects ahead of the job (the machine's cores).
    parse_threads: int = Field(default=2, ge=1, le=16)
    #: DuckDB's memory limit; beyond it the work tables spill to local disk.
    duckdb_memory_mb: int = Field(default=256, ge=64)
    #: Parquet bytes of current state read per merge group; bounds the merge's memory.
    merge_mb: int = Field(default=DEFAULT_MERGE_MB, ge=1)
    #: How late a bronze object may appear after the hour it is filed under
    #: and still be read by an ordinary run (see ``manifest.py``).
    lateness_hours: int = Field(default=48, ge=1)
    #: How long the run's lease lasts unrenewed (a crashed run blocks the next this long).
    lease_seconds: int = Field(default=600, ge=1)

    @property
    def chunk_bytes(self) -> int:
        return self.chunk_mb << 20

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> SilverSettings:
        args: Dict[str, str] = parse_glue_args(argv)
        require(args, ("BRONZE_BUCKET", "SILVER_BUCKET", "DATABASE_NAME"))
        values = {
            **common_settings(args),
            "bronze_bucket": args["BRONZE_BUCKET"],
            "silver_bucket": args["SILVER_BUCKET"],
            "database_name": args["DATABASE_NAME"],
            "full_refresh": as_bool(args.get("FULL_REFRESH")),
        }
        if "CHUNK_MB" in args:
            values["chunk_mb"] = int(args["CHUNK_MB"])
        if "MERGE_MB" in args:
            values["merge_mb"] = int(args["MERGE_MB"])
        if "LATENESS_HOURS" in args:
            values["lateness_hours"] = int(args["LATENESS_HOURS"])
        if "LEASE_SECONDS" in args:
            values["lease_seconds"] = int(args["LEASE_SECONDS"])
        if "PARSE_THREADS" in args:
            values["parse_threads"] = int(args["PARSE_THREADS"])
        return cls(**values)
