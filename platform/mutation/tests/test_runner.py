"""A real mutmut run on a small package: weak tests leave survivors, strong ones kill them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from todo_mutation.runner import run_target
from todo_mutation.targets import Target

pytestmark = pytest.mark.skipif(shutil.which("mutmut") is None, reason="needs mutmut on PATH")

MODULE = """\
LIMIT = 3
# Built at import: a mutant of it breaks the import, not a test.
SLOTS = [0] * LIMIT


def allowed(count):
    return count < LIMIT
"""

WEAK = """\
from guard import allowed


def test_small_counts_are_allowed():
    assert allowed(0)
"""

STRONG = (
    WEAK
    + """

def test_the_limit_itself_is_refused():
    assert not allowed(3)
    assert allowed(2)


def test_one_empty_slot_per_allowed_count():
    from guard import SLOTS
    assert SLOTS == [0, 0, 0]
"""
)


def _repo(tmp_path: Path, tests: str) -> Path:
    package = tmp_path / "repo" / "pkg"
    (package / "src").mkdir(parents=True)
    (package / "tests").mkdir()
    (package / "src" / "guard.py").write_text(MODULE)
    (package / "tests" / "test_guard.py").write_text(tests)
    return tmp_path / "repo"


def _target() -> Target:
    return Target(name="guard", package="pkg", module="src/guard.py", tests=("tests",))


def test_weak_tests_leave_the_boundary_mutants_alive(tmp_path: Path) -> None:
    root = _repo(tmp_path, WEAK)
    mutants = run_target(_target(), root, "pkg", sys.executable)
    survived = {(m.original.strip(), m.mutated.strip()) for m in mutants if m.outcome == "survived"}
    assert ("return count < LIMIT", "return count <= LIMIT") in survived
    # A mutant that breaks the import fails the run (pytest exits 2, not 1):
    # it is killed, not taken for a survivor.
    assert ("SLOTS = [0] * LIMIT", "SLOTS = [0] / LIMIT") not in survived
    # The run happened in a copy: the real module is untouched.
    assert (root / "pkg" / "src" / "guard.py").read_text() == MODULE


def test_strong_tests_kill_every_mutant(tmp_path: Path) -> None:
    mutants = run_target(_target(), _repo(tmp_path, STRONG), "pkg", sys.executable)
    assert mutants
    assert {m.outcome for m in mutants} == {"killed"}


LOOP = """\
def countdown(n):
    steps = 0
    while n > 0:
        n -= 1
        steps += 1
    return steps
"""

LOOP_TESTS = """\
from guard import countdown


def test_counts_down_to_zero():
    assert countdown(3) == 3
"""


def test_a_mutant_that_never_ends_is_stopped_and_killed(tmp_path: Path) -> None:
    """``n -= 1`` -> ``n += 1`` loops forever: the run must still end, the mutant killed."""
    root = _repo(tmp_path, LOOP_TESTS)
    (root / "pkg" / "src" / "guard.py").write_text(LOOP)
    mutants = run_target(_target(), root, "pkg", sys.executable, minimum_limit_seconds=3)
    # Without the limit this run would never return (``n += 1`` is among them).
    assert len(mutants) >= 4
    assert {m.outcome for m in mutants} == {"killed"}
