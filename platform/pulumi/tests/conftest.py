"""Fixtures: the program run once per stage per session, over dummy artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict

import pytest
from harness import (
    STAGES,
    StackRun,
    cli_config,
    deployable_config,
    etl_engine_config,
    run_program,
    write_dummy_artifacts,
)


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dummy_artifacts(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def stack_runs(artifacts_dir: Path) -> Callable[[str], StackRun]:
    """``stack_runs(stage)``: the program's resources for a committed stack (cached)."""
    cache: Dict[str, StackRun] = {}

    def get(stage: str) -> StackRun:
        if stage not in cache:
            cache[stage] = run_program(stage, cli_config(deployable_config(stage)), artifacts_dir)
        return cache[stage]

    return get


@pytest.fixture(params=STAGES)
def run(request: pytest.FixtureRequest, stack_runs: Callable[[str], StackRun]) -> StackRun:
    """The program's resources, once for each committed stage."""
    return stack_runs(request.param)


@pytest.fixture
def dev(stack_runs: Callable[[str], StackRun]) -> StackRun:
    return stack_runs("dev")


@pytest.fixture
def staging(stack_runs: Callable[[str], StackRun]) -> StackRun:
    return stack_runs("staging")


@pytest.fixture
def prod(stack_runs: Callable[[str], StackRun]) -> StackRun:
    return stack_runs("prod")


@pytest.fixture(scope="session")
def engine_runs(
    artifacts_dir: Path, stack_runs: Callable[[str], StackRun]
) -> Callable[[str, str], StackRun]:
    """``engine_runs(stage, engine)``: a committed stage with its ETL switched to ``engine``
    (the committed run itself when that is what the stack file already says)."""
    cache: Dict[tuple, StackRun] = {}

    def get(stage: str, engine: str) -> StackRun:
        committed = deployable_config(stage)
        config = etl_engine_config(committed, engine)
        if config == committed:
            return stack_runs(stage)
        if (stage, engine) not in cache:
            cache[(stage, engine)] = run_program(stage, cli_config(config), artifacts_dir)
        return cache[(stage, engine)]

    return get
