"""CPU time per process and wall time per phase, for the demo's summary lines.

The demo is CPU-bound on a small machine: the per-call CPU of each process
(the emulator, the API, the driver with the CDC stream runner) says which one
to make cheaper.
"""

from __future__ import annotations

import os
import time
from typing import Dict, List, Optional, Tuple


def _proc_stat(pid: int) -> Optional[List[str]]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds(pid: int, children: bool = False) -> Optional[float]:
    """User + system CPU time of a process (and its live children) so far.

    Linux ``/proc`` only (None elsewhere); children count for the API, which
    may run as several uvicorn worker processes.
    """
    fields = _proc_stat(pid)
    if fields is None:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if not children:
        return ticks / os.sysconf("SC_CLK_TCK")
    try:
        entries = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        entries = []
    for child in entries:
        child_fields = _proc_stat(child)
        if child_fields is not None and child_fields[1] == str(pid):
            ticks += int(child_fields[11]) + int(child_fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time each local-stack process spent during a phase, per API call.

    The demo is CPU-bound on a small machine: this says which process to
    make cheaper (the emulator, the API, or this process, which drives the
    API and runs the CDC stream runner).
    """

    def __init__(self, processes: Dict[str, Optional[int]]) -> None:
        self.pids = {name: pid for name, pid in processes.items() if pid is not None}
        self.start = {name: self._cpu(pid) for name, pid in self.pids.items()}

    @staticmethod
    def _cpu(pid: int) -> Optional[float]:
        # This process's children are the other components: count itself only.
        return cpu_seconds(pid, children=pid != os.getpid())

    def report(self, calls: int) -> str:
        parts = []
        for name, pid in self.pids.items():
            now, then = self._cpu(pid), self.start[name]
            if now is None or then is None:
                continue
            used = now - then
            parts.append(f"{name} {used:.1f}s ({1000 * used / max(1, calls):.1f} ms/call)")
        return "CPU: " + ", ".join(parts) if parts else ""


class Phases:
    """Wall time of each step, printed at the end as one line."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.spent: List[Tuple[str, float]] = []

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.spent.append((name, now - self.last))
        self.last = now

    def summary(self) -> str:
        return "phases: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.spent)
