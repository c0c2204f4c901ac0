"""Job arguments the way Glue passes them: ``--NAME value`` pairs in sys.argv.

Glue adds its own arguments (``--JOB_ID``, ``--JOB_RUN_ID``, ``--scriptLocation``,
``--job-bookmark-option`` ...); they are accepted and ignored. Locally the
same job runs as ``python -m todo_silver.job --BRONZE_BUCKET ...``; a flag
given without a value (``--FULL_REFRESH``) means ``true``.

:class:`JobSettings` holds the settings every lake job has, and
:func:`common_settings` reads the arguments every lake job takes the same
way (``--STAGE``, ``--PUBLISH_METRICS``, ``--METRICS_NAMESPACE``,
``--DUCKDB_MEMORY_MB``), so each job's settings spell only their own.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field

from todo_lake.observability import ETL_METRICS_NAMESPACE

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class JobSettings(BaseModel):
    """What every lake job is configured with; each job's settings extend it."""

    model_config = ConfigDict(frozen=True)

    #: ``s3://bucket`` or a bucket name (both jobs read or write silver).
    silver_bucket: str = Field(min_length=1)
    database_name: str = Field(min_length=1)
    #: The deployment stage (a metric dimension).
    stage: Optional[str] = None
    publish_metrics: bool = True
    metrics_namespace: str = ETL_METRICS_NAMESPACE


def parse_glue_args(argv: Sequence[str]) -> Dict[str, str]:
    """``["--A", "x", "--B=y", "--C"]`` -> ``{"A": "x", "B": "y", "C": "true"}``.

    Positional tokens that follow no option are ignored (Glue passes none).
    """
    out: Dict[str, str] = {}
    tokens: List[str] = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.startswith("--") or len(token) == 2:
            continue
        name = token[2:]
        if "=" in name:
            name, value = name.split("=", 1)
        elif i < len(tokens) and not tokens[i].startswith("--"):
            value = tokens[i]
            i += 1
        else:
            value = "true"
        out[name] = value
    return out


def as_bool(value: Optional[str], default: bool = False) -> bool:
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def require(args: Dict[str, str], names: Sequence[str]) -> None:
    """Exit with the names of the required arguments that are missing."""
    missing = [name for name in names if name not in args]
    if missing:
        raise SystemExit(f"missing job arguments: {', '.join('--' + m for m in missing)}")


def common_settings(args: Dict[str, str]) -> Dict[str, Any]:
    """The settings every lake job reads alike, by field name (only those given,
    but ``stage`` and ``publish_metrics``, which always have a value)."""
    values: Dict[str, Any] = {
        "stage": args.get("STAGE"),
        "publish_metrics": as_bool(args.get("PUBLISH_METRICS"), True),
    }
    if "DUCKDB_MEMORY_MB" in args:
        values["duckdb_memory_mb"] = int(args["DUCKDB_MEMORY_MB"])
    if "METRICS_NAMESPACE" in args:
        values["metrics_namespace"] = args["METRICS_NAMESPACE"]
    return values
