"""The program's shape: short functions, and components that take one Args dataclass."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest
from harness import PROJECT_DIR

from todo_platform import api, data, etl, failover, monitoring

SOURCES = sorted((PROJECT_DIR / "src" / "todo_platform").glob("*.py"))
MAX_FUNCTION_LINES = 80


def functions(path: Path):  # type: ignore[no-untyped-def]
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_function_is_longer_than_80_lines(path: Path) -> None:
    long = {
        f.name: f.end_lineno - f.lineno + 1  # type: ignore[operator]
        for f in functions(path)
        if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES  # type: ignore[operator]
    }
    assert long == {}


@pytest.mark.parametrize(
    ("component", "args"),
    [
        (data.TodoData, data.TodoDataArgs),
        (api.TodoApi, api.TodoApiArgs),
        (etl.TodoEtl, etl.TodoEtlArgs),
        (monitoring.TodoMonitoring, monitoring.TodoMonitoringArgs),
        (failover.TodoFailover, failover.TodoFailoverArgs),
    ],
)
def test_components_take_a_name_one_args_dataclass_and_options(component, args) -> None:  # type: ignore[no-untyped-def]
    assert dataclasses.is_dataclass(args)
    parameters = list(inspect.signature(component.__init__).parameters)
    assert parameters == ["self", "name", "args", "opts"]
    # Args carry values and outputs, never sibling components.
    for field in dataclasses.fields(args):
        assert "Todo" not in str(field.type), (args.__name__, field.name)
