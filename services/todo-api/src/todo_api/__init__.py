"""Todo API with Insights: the Tasks API (FastAPI on AWS Lambda via Mangum)."""

from __future__ import annotations

import functools
from typing import Any

DISTRIBUTION = "todo-api"


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    """The installed distribution's version: pyproject.toml is the only place it is written."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return package_version()
    raise AttributeError(name)
