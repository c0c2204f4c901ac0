"""Fixtures every Spark test shares: one local Spark per test session."""

from __future__ import annotations

import pytest

from todo_lake_spark.session import local_session


@pytest.fixture(scope="session")
def spark():
    """The local Spark (starting the JVM costs seconds: once per session)."""
    return local_session()
