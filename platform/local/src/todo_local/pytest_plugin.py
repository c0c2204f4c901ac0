"""pytest fixtures for integration tests of every package (auto-loaded).

``local_stack`` starts one moto server per test session and provisions the
local stage in it. Tests talk to it over HTTP with ordinary boto3 clients; no
boto3 patching happens in-process. Tests isolate themselves with unique user
ids, or ask for ``fresh_stack`` to start from empty resources.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from todo_local.emulator import Emulator, client_environment, environment_applied
from todo_local.stack import LocalStack, provision


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    port = os.environ.get("TODO_LOCAL_TEST_PORT")
    with Emulator(port=int(port) if port else None) as running:
        yield running


@pytest.fixture(scope="session")
def local_stack(emulator: Emulator) -> Iterator[LocalStack]:
    """The provisioned local stage, shared by the whole session."""
    with environment_applied(client_environment(emulator.endpoint_url)):
        yield provision(emulator.endpoint_url)


@pytest.fixture
def fresh_stack(emulator: Emulator, local_stack: LocalStack) -> LocalStack:
    """An empty local stage (every resource re-created) for tests that count things.

    It replaces the session's stage in the emulator: tests using it must not
    rely on anything the session stage held before.
    """
    emulator.reset()
    stack = provision(emulator.endpoint_url)
    local_stack.__dict__.update(stack.__dict__)
    return local_stack
