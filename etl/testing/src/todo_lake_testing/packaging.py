"""What a shipped lake package may not contain: test code.

Each package's tests call :func:`imports_of_test_code` on its own source tree,
so the check runs whenever that package changes.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List

#: Top-level modules that only tests, benchmarks and the local stack use.
TEST_ONLY = frozenset({"pytest", "hypothesis", "moto", "todo_local", "todo_lake_testing"})


def imports_of_test_code(source_root: Path) -> List[str]:
    """``file:line module`` for every import of a test-only module under ``source_root``."""
    found = []
    for path in sorted(source_root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in TEST_ONLY:
                    found.append(f"{path.relative_to(source_root)}:{node.lineno} {name}")
    return found
