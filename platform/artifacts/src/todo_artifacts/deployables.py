"""``deployables.toml``: every package of the monorepo, as the one list names it.

The noxfile reads the same file for its sessions (it cannot import workspace
packages: it runs before any environment exists); the artifact and CI checks
read it through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

FILE_NAME = "deployables.toml"


def load(root: Path) -> List[Dict[str, Any]]:
    """Every ``[[package]]`` entry of ``<root>/deployables.toml``, in file order."""
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

    data = tomllib.loads((root / FILE_NAME).read_text(encoding="utf-8"))
    return list(data["package"])


def lambdas(root: Path) -> List[Dict[str, Any]]:
    return [p for p in load(root) if p.get("lambda_handler")]


def glue_jobs(root: Path) -> List[Dict[str, Any]]:
    return [p for p in load(root) if p.get("glue_module")]


def glue_spark_jobs(root: Path) -> List[Dict[str, Any]]:
    """The Glue jobs that can also run on Glue Spark (a ``glue_spark_module``)."""
    return [p for p in load(root) if p.get("glue_spark_module")]
