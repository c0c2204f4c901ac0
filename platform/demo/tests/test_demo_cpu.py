"""The demo's per-process CPU accounting (what tells which process to make cheaper)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from todo_demo.cpu import CpuMeter, cpu_seconds

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux /proc")


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_grow_with_work_and_count_children_on_request() -> None:
    before = cpu_seconds(os.getpid())
    _burn(0.2)
    after = cpu_seconds(os.getpid())
    assert before is not None
    assert after is not None
    assert after - before >= 0.15
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.5\n"
            "while time.process_time() < end: pass\nprint('burnt', flush=True)\ntime.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait for the child to have burnt its CPU (however busy the machine).
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "burnt"
        alone = cpu_seconds(os.getpid())
        with_children = cpu_seconds(os.getpid(), children=True)
        assert alone is not None
        assert with_children is not None
        assert with_children - alone >= 0.4
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(2**22 + 12345) is None


def test_the_meter_reports_cpu_per_call() -> None:
    meter = CpuMeter({"driver": os.getpid(), "gone": None})
    _burn(0.1)
    report = meter.report(calls=10)
    assert report.startswith("CPU: driver ")
    assert "ms/call" in report
    assert "gone" not in report
