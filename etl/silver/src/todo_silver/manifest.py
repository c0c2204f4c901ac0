"""The silver job's durable record of the bronze objects it has processed.

Glue Python-shell jobs have no job bookmarks. After a run has written all its
outputs, it commits one manifest object listing the bronze keys it has
processed (a single S3 PUT, so a commit is all or nothing). A run that dies
before its commit leaves no manifest: the next run reads the same objects
again, and because every write is deduplicated (events by item key and
sequence number, state by version and sequence number) nothing is lost or
counted twice.

**Bounded by a lateness window, not by history.** Firehose files an object
under the hour it received its first record (``cdc/YYYY/MM/DD/HH/``), and
the object appears within its buffer interval of that hour, or later only
while S3 delivery is being retried (up to a day). The newest hour processed
is the *watermark*; a run lists bronze only from ``watermark - lateness``
on (a listing that starts after a key, not a listing of everything), and
the manifest keeps only the keys of that window: an older key is never
listed again, so it need not be remembered. A run's cost is the window's,
whatever the lake's age. An object filed under an hour older than the window
when it first appears is not read by ordinary runs (a full refresh reads
it); ``--LATENESS_HOURS`` sets the window.

Each commit writes the whole window's keys as one new object, and only then
deletes the older manifest objects: a crash in between leaves two, and their
union is the same record.

A full refresh is made durable before it destroys anything: a marker object
is written first and deleted only after the refreshing run's commit. A run
that finds the marker finishes the refresh (drops and rebuilds again), so a
crash anywhere in a refresh never leaves silver emptied behind a manifest
that says everything was processed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from todo_core import lake
from todo_lake.store import LakeStore
from todo_silver.bronze import key_hour

MANIFEST_PREFIX = lake.STATE_PREFIX + "manifest/"
#: Present from the start of a full refresh until the manifest commit that ends it.
REFRESH_MARKER = lake.STATE_PREFIX + "full-refresh-in-progress.json"
#: How late an object may appear after the hour it is filed under.
DEFAULT_LATENESS_HOURS = 48


@dataclass
class ManifestState:
    """What the manifest says before a run."""

    #: Keys processed within the window.
    processed: Set[str]
    #: The newest hour processed (None before the first run, or after a refresh).
    watermark: Optional[dt.datetime]
    lateness_hours: int = DEFAULT_LATENESS_HOURS
    #: The manifest objects read (replaced by the next commit).
    files: List[str] = field(default_factory=list)

    @property
    def since(self) -> Optional[dt.datetime]:
        """The oldest hour a run lists (None: list everything)."""
        if self.watermark is None:
            return None
        return self.watermark - dt.timedelta(hours=self.lateness_hours)


def _newest_hour(keys: Iterable[str]) -> Optional[dt.datetime]:
    hours = [h for h in (key_hour(k) for k in keys) if h is not None]
    return max(hours) if hours else None


def _in_window(key: str, since: Optional[dt.datetime]) -> bool:
    """Whether a run listing from ``since`` can list ``key`` again (so it must be remembered)."""
    if since is None:
        return True
    hour = key_hour(key)
    return hour is not None and hour >= since


class Manifest:
    def __init__(self, store: LakeStore) -> None:
        self.store = store

    def _files(self) -> List[str]:
        return sorted(k for k in self.store.list_keys(MANIFEST_PREFIX) if k.endswith(".json"))

    def load(self, lateness_hours: int = DEFAULT_LATENESS_HOURS) -> ManifestState:
        files = self._files()
        done: Set[str] = set()
        for key in files:
            done.update(self.store.get_json(key)["objects"])
        return ManifestState(done, _newest_hour(done), lateness_hours, files)

    def processed(self) -> Set[str]:
        return self.load().processed

    def commit(
        self, run_id: str, state: ManifestState, objects: Iterable[str], counts: Dict[str, Any]
    ) -> str:
        """Record ``objects`` as processed: one PUT of the window's keys, then the
        older manifest objects are deleted."""
        everything = state.processed | set(objects)
        window = ManifestState(everything, _newest_hour(everything), state.lateness_hours)
        since = window.since
        kept = {k for k in everything if _in_window(k, since)}
        key = f"{MANIFEST_PREFIX}run-{run_id}.json"
        self.store.put_json(
            key,
            {
                "run_id": run_id,
                "committed_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "watermark": None if window.watermark is None else window.watermark.isoformat(),
                "lateness_hours": state.lateness_hours,
                "objects": sorted(kept),
                "counts": counts,
            },
        )
        self.store.delete_keys([f for f in state.files if f != key])
        return key

    def reset(self) -> None:
        self.store.delete_keys(self._files())

    # --- full refresh --------------------------------------------------------------
    def refresh_pending(self) -> bool:
        """A full refresh was started and has not committed."""
        return REFRESH_MARKER in self.store.list_keys(REFRESH_MARKER)

    def begin_refresh(self, run_id: str) -> None:
        self.store.put_json(
            REFRESH_MARKER,
            {"run_id": run_id, "started_at": dt.datetime.now(dt.timezone.utc).isoformat()},
        )

    def end_refresh(self) -> None:
        self.store.delete_keys([REFRESH_MARKER])
