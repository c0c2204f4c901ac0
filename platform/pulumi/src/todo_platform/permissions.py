"""The AWS actions each deployable's code calls, as the package itself declares them.

Each package that runs in AWS lists, once, in its own ``pyproject.toml``::

    [tool.todo-platform]
    actions = ["dynamodb:GetItem", ...]          # every AWS API action its code calls
    metrics-namespaces = ["TodoApi/ETL"]         # where it PutMetricData's (if it does)
    [tool.todo-platform.engine-actions]
    athena = ["athena:StartQueryExecution", ...] # only when that engine is configured

A Glue job on Spark runs its package's transform from its Spark bundle
(``todo-lake-spark``): its role needs what the job's package declares and
what the bundle's package declares, if it declares anything
(:func:`declared_for`).

The program reads the list twice: it fences ``cloudwatch:PutMetricData`` with
the declared namespaces, and it refuses to declare a role whose policy misses
a declared action (:func:`require_granted`), so an AccessDenied the code
would swallow at run time fails the preview instead. The tests read the same
list against the recorded policies of every stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from todo_platform.artifacts import Deployable, platform_table


@dataclass(frozen=True)
class Declared:
    """What one package says its code does in AWS."""

    actions: Tuple[str, ...]
    metrics_namespaces: Tuple[str, ...]
    engine_actions: Mapping[str, Tuple[str, ...]]

    def required(self, engine: Optional[str] = None) -> Tuple[str, ...]:
        extra = self.engine_actions.get(engine, ()) if engine else ()
        return tuple(sorted({*self.actions, *extra}))


def declared(deployable: Deployable) -> Declared:
    return declared_at(deployable.path)


def declared_at(package_path: str) -> Declared:
    """What the package in ``package_path`` declares (nothing, when it has no table)."""
    table = platform_table(package_path)
    return Declared(
        actions=tuple(table.get("actions", ())),
        metrics_namespaces=tuple(table.get("metrics-namespaces", ())),
        engine_actions={
            engine: tuple(actions) for engine, actions in table.get("engine-actions", {}).items()
        },
    )


def declared_for(deployable: Deployable, spark: bool = False) -> Declared:
    """What a job's role must grant: its package's declaration, plus its Spark bundle's on Spark."""
    own = declared(deployable)
    if not (spark and deployable.spark_bundle_path):
        return own
    bundle = declared_at(deployable.spark_bundle_path)
    engines = {*own.engine_actions, *bundle.engine_actions}
    return Declared(
        actions=tuple(sorted({*own.actions, *bundle.actions})),
        metrics_namespaces=tuple(
            dict.fromkeys([*own.metrics_namespaces, *bundle.metrics_namespaces])
        ),
        engine_actions={
            e: tuple(sorted({*own.engine_actions.get(e, ()), *bundle.engine_actions.get(e, ())}))
            for e in engines
        },
    )


def granted_actions(statements: Iterable[Mapping[str, Any]]) -> Set[str]:
    """Every action an Allow statement grants (exact names; the policies forbid wildcards)."""
    found: Set[str] = set()
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def missing_actions(
    deployable: Deployable,
    statements: Sequence[Mapping[str, Any]],
    engine: Optional[str] = None,
    spark: bool = False,
) -> List[str]:
    required = declared_for(deployable, spark).required(engine)
    return sorted(set(required) - granted_actions(statements))


class UngrantedActions(ValueError):
    """A package calls AWS actions its role would not be allowed."""


def require_granted(
    deployable: Deployable,
    statements: Sequence[Mapping[str, Any]],
    engine: Optional[str] = None,
    spark: bool = False,
) -> None:
    missing = missing_actions(deployable, statements, engine, spark)
    if missing:
        raise UngrantedActions(
            f"{deployable.package} declares AWS actions its role does not grant: {missing} "
            f"(see [tool.todo-platform] in {deployable.path}/pyproject.toml)"
        )
