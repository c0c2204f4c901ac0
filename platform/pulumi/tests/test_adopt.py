"""Adopting the CDK deployment's live table and user pool: imported, never replaced or deleted."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from harness import StackRun, cli_config, deployable_config, run_program

from todo_platform.api import ADOPTED_POOL_IMMUTABLE
from todo_platform.data import ADOPTED_TABLE_IGNORED
from todo_platform.policies import TABLE

POOL_ID = "us-east-1_CdkPool42"


def adopting(stage: str, importing: bool) -> Dict[str, Any]:
    config = deployable_config(stage)
    config["todo-platform:adopt"] = {
        "table": "todo-app-data",
        "userPoolId": POOL_ID,
        "importing": importing,
    }
    return config


@pytest.fixture(scope="module")
def importing(artifacts_dir) -> StackRun:  # type: ignore[no-untyped-def]
    return run_program("prod", cli_config(adopting("prod", True)), artifacts_dir)


@pytest.fixture(scope="module")
def adopted(artifacts_dir) -> StackRun:  # type: ignore[no-untyped-def]
    return run_program("staging", cli_config(adopting("staging", False)), artifacts_dir)


def test_the_first_run_imports_the_live_table_by_name(importing: StackRun) -> None:
    table = importing.one(TABLE)
    assert table.import_id == "todo-app-data"
    assert table.inputs["name"] == "todo-app-data"
    assert importing.outputs["TableName"] == "todo-app-data"
    assert set(ADOPTED_TABLE_IGNORED) <= set(table.ignore_changes)
    assert table.protect
    assert table.retain_on_delete


def test_the_first_run_imports_the_live_user_pool_by_id(importing: StackRun) -> None:
    pool = importing.named("user-pool")
    assert pool.import_id == POOL_ID
    assert pool.protect
    assert pool.retain_on_delete
    assert set(ADOPTED_POOL_IMMUTABLE) <= set(pool.ignore_changes)


def test_after_the_import_the_stack_manages_them_and_never_replaces_the_pool(
    adopted: StackRun,
) -> None:
    table, pool = adopted.one(TABLE), adopted.named("user-pool")
    assert table.import_id == ""
    assert pool.import_id == ""
    assert table.inputs["name"] == "todo-app-data"
    # Settings converge now (encryption with the stage's key, PITR...): nothing ignored.
    assert table.ignore_changes == ()
    # Pool properties AWS cannot change in place stay as the CDK made them.
    assert set(pool.ignore_changes) == set(ADOPTED_POOL_IMMUTABLE)
    # Even outside prod an adopted table and pool (real data, real users) are protected.
    assert table.protect
    assert pool.protect
    assert table.retain_on_delete
    assert pool.retain_on_delete


def test_stacks_without_adoption_create_their_own(dev: StackRun) -> None:
    table = dev.one(TABLE)
    assert table.import_id == ""
    assert table.inputs["name"] == "todo-app-data-dev"
    assert not dev.named("user-pool").retain_on_delete


def test_a_malformed_pool_id_is_refused() -> None:
    from pydantic import ValidationError

    from todo_platform.config import AdoptSettings

    with pytest.raises(ValidationError, match=r"user_pool_id|userPoolId"):
        AdoptSettings.model_validate({"userPoolId": "not-a-pool"})
