"""Fault injection for the silver tests: crashes the job never raises itself,
injected through the job's own seams (its bronze source, its manifest, its
lake store), so nothing test-only ships in the package."""

from __future__ import annotations

from typing import List

from todo_silver.bronze import BronzeObject, BronzeSource


class SimulatedCrash(RuntimeError):
    """A crash injected by a test (a power cut, a killed process)."""


class CrashingSource(BronzeSource):
    """A bronze source that dies when it is asked for its ``crash_at``-th object
    (0-based): the run dies in the middle of reading bronze."""

    def __init__(self, source: BronzeSource, crash_at: int) -> None:
        self.source = source
        self.location = source.location
        self.crash_at = crash_at
        self._objects: List[BronzeObject] = []

    def list(self) -> List[BronzeObject]:
        self._objects = self.source.list()
        return self._objects

    def read(self, key: str) -> bytes:
        keys = [o.key for o in self._objects]
        if key in keys and keys.index(key) == self.crash_at:
            raise SimulatedCrash(f"killed while reading {key}")
        return self.source.read(key)
