"""Run mutmut on one target, in a copy of the repository, with the target package's Python.

mutmut 2 writes each mutant over the module on disk and runs the tests. It
runs here in a throw-away copy of the repository (no ``.git``, ``.nox``), and
the copy's ``src`` folder goes first on ``PYTHONPATH`` so that the package's
own test environment, whose editable install points at the real tree,
imports the mutated copy. An interrupted run can therefore never leave a
mutant in the working tree.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List

from todo_mutation.results import Mutant, parse_junit
from todo_mutation.targets import Target

_NOT_COPIED = (
    ".git",
    ".nox",
    ".local",
    "dist",
    "build",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".mutmut-cache",
)


def _copy_repository(root: Path, into: Path) -> Path:
    copy = into / "repo"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(*_NOT_COPIED), symlinks=True)
    return copy


def _src_root(module: str) -> str:
    """The import root of a module path: ``src/todo_core/keys.py`` -> ``src``."""
    parts = Path(module).parts
    return parts[0] if parts and parts[0] == "src" else "."


def _time_limit(command: str, cwd: Path, env: dict, minimum: float) -> int:
    """Seconds a mutant's test run may take: ten times an unmutated run, at least ``minimum``.

    mutmut's own timeout stops the shell it starts, not the test process under
    it: a mutant that loops forever (a retry loop whose exit was mutated away)
    would hang the run. ``timeout`` kills the tests themselves.
    """
    started = time.monotonic()
    baseline = subprocess.run(["/bin/sh", "-c", command], cwd=cwd, env=env, check=False)
    if baseline.returncode != 0:
        raise RuntimeError("the tests fail without any mutant: fix them first")
    return int(max(minimum, 10 * (time.monotonic() - started)))


def run_target(
    target: Target,
    root: Path,
    package_path: str,
    test_python: str,
    timeout_factor: float = 4.0,
    minimum_limit_seconds: float = 60.0,
) -> List[Mutant]:
    """Every mutant of ``target.module`` and what its tests made of it."""
    mutmut = shutil.which("mutmut")
    if mutmut is None:
        raise RuntimeError("mutmut is not installed in this environment")
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        copy = _copy_repository(root, Path(scratch))
        package = copy / package_path
        if not (package / target.module).is_file():
            raise FileNotFoundError(f"{target.name}: no module {package_path}/{target.module}")
        # mutmut 2 takes only exit status 1 for "tests failed": an import error
        # (pytest's 2 or 3) or no test collected (5) would count as a survivor.
        pytest = " ".join(
            [
                shlex.quote(test_python),
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "addopts=",
                *(shlex.quote(t) for t in target.tests),
            ]
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(package / _src_root(target.module)), env.get("PYTHONPATH")) if p
        )
        env.pop("PYTEST_ADDOPTS", None)
        limit = _time_limit(pytest, package, env, minimum_limit_seconds)
        # A run stopped at the limit exits 137: "failed", so the mutant is killed.
        runner = f"sh -c {shlex.quote(f'timeout -s KILL {limit} {pytest} || exit 1')}"
        subprocess.run(
            [
                mutmut,
                "run",
                "--paths-to-mutate",
                target.module,
                "--runner",
                runner,
                "--no-progress",
                "--test-time-multiplier",
                str(timeout_factor),
            ],
            cwd=package,
            env=env,
            check=False,  # exit status encodes survivors
        )
        # mutmut lists a mutant it never ran (an interrupted run) as a passing
        # test case unless told otherwise: it would count as killed.
        report = subprocess.run(
            [mutmut, "junitxml", "--untested-policy", "failure"],
            cwd=package,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return parse_junit(report, target)
