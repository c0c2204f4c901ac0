"""The modules under mutation testing, and the mutants argued equivalent, from ``mutation.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Tuple

import tomllib


@dataclass(frozen=True)
class Equivalent:
    """A mutant that changes no behaviour, identified by the lines it changes.

    Mutant numbers change from run to run; the original and mutated source
    lines do not (until the code itself changes, when the argument must be
    made again anyway).
    """

    original: str
    mutant: str
    why: str


@dataclass(frozen=True)
class Target:
    """One module: the package that owns it, and the tests that guard it."""

    name: str
    #: The package's name in deployables.toml (its test environment runs the tests).
    package: str
    #: The module, relative to the package folder (``src/todo_core/keys.py``).
    module: str
    #: pytest arguments selecting the tests that guard it, relative to the package folder.
    tests: Tuple[str, ...]
    equivalents: Tuple[Equivalent, ...] = field(default=())

    def is_equivalent(self, original: str, mutant: str) -> bool:
        return any(
            e.original.strip() == original.strip() and e.mutant.strip() == mutant.strip()
            for e in self.equivalents
        )


def load_targets(path: Path) -> List[Target]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    targets = []
    for entry in data.get("target", []):
        equivalents = tuple(Equivalent(**e) for e in entry.get("equivalent", []))
        unknown = set(entry) - {"name", "package", "module", "tests", "equivalent"}
        if unknown:
            raise ValueError(f"{path}: target {entry.get('name')!r} has unknown keys {unknown}")
        targets.append(
            Target(
                name=entry["name"],
                package=entry["package"],
                module=entry["module"],
                tests=tuple(entry["tests"]),
                equivalents=equivalents,
            )
        )
    names = [t.name for t in targets]
    if len(names) != len(set(names)):
        raise ValueError(f"{path}: target names must be unique")
    return targets
