"""Fault injection for the silver tests: crashes the job never raises itself,
injected through the job's own seams (its bronze source, its manifest, its
lake store), so nothing test-only ships in the package."""

from __future__ import annotations

from typing import Any, Callable, List, Optional

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

    def list(self, since: Optional[Any] = None) -> List[BronzeObject]:
        self._objects = self.source.list(since)
        return self._objects

    def read(self, key: str) -> bytes:
        keys = [o.key for o in self._objects]
        if key in keys and keys.index(key) == self.crash_at:
            raise SimulatedCrash(f"killed while reading {key}")
        return self.source.read(key)


class CrashingStore:
    """Makes the ``crash_at``-th change a run makes to the silver bucket (0-based:
    a PUT, a delete, a table drop) raise :class:`SimulatedCrash` instead;
    ``steps`` counts the changes made (or attempted) so far.

    Installed with pytest's ``monkeypatch`` on :class:`todo_lake.store.LakeStore`,
    the job's own lake store.
    """

    METHODS = ("put_bytes", "delete_keys", "drop_table")

    def __init__(self, monkeypatch, crash_at: Optional[int]) -> None:
        from todo_lake.store import LakeStore

        self.crash_at = crash_at
        self.steps = 0
        self.log: List[str] = []
        for name in self.METHODS:
            real = getattr(LakeStore, name)
            monkeypatch.setattr(LakeStore, name, self._wrap(name, real))

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def step(store: Any, *args: Any, **kwargs: Any) -> Any:
            if self.crash_at is not None and self.steps == self.crash_at:
                self.steps += 1
                raise SimulatedCrash(f"killed at step {self.crash_at}: {name}{args[:1]}")
            self.steps += 1
            self.log.append(f"{name} {str(args[:1])[:80]}")
            return real(store, *args, **kwargs)

        return step
