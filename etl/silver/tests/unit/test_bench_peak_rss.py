"""The benchmarks' peak RSS is the measured process's own, whatever the
benchmark process itself holds (todo_lake_testing.bench.run_child).

Linux folds the spawning process's memory into a child's ``ru_maxrss``: a
child started by vfork (Python 3.10+) inherits the parent's high-water mark
at exec, one started by fork the parent's resident pages. A benchmark that
built a large silver partition in-process would then report that size for
every job it ran afterwards.
"""

from __future__ import annotations

import sys

import pytest

from todo_lake_testing.bench import run_child

MIB = 1 << 20


def test_a_small_child_is_not_charged_with_the_benchmarks_own_memory() -> None:
    held = b"x" * (400 * MIB)  # resident in this process while the child runs
    measured = run_child([sys.executable, "-c", "pass"])
    assert len(held) == 400 * MIB
    assert measured.peak_rss_mib < 150


def test_the_childs_own_peak_is_reported() -> None:
    code = "import sys; b = b'x' * (300 << 20); print(len(b)); sys.stderr.write('done')"
    measured = run_child([sys.executable, "-c", code])
    assert measured.stdout.strip() == str(300 * MIB)
    assert 300 <= measured.peak_rss_mib < 450
    assert measured.seconds > 0


def test_a_failing_child_raises_with_its_error_output() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        run_child([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"])
