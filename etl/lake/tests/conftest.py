"""A clean lake in the emulator for the integration tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def names(local_stack: Any) -> Any:
    """The local stage's resource names, with the lake buckets and catalog emptied."""
    local_stack.empty_data_lake()
    return local_stack.names
