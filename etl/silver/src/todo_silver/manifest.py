"""The silver job's durable record of the bronze objects it has processed.

Glue Python-shell jobs have no job bookmarks. After a run has written all its
outputs, it commits one manifest object listing the bronze keys it consumed
(a single S3 PUT, so a commit is all or nothing). A run that dies before its
commit leaves no manifest: the next run reads the same objects again, and
because every write is deduplicated (events by item key and sequence number,
state by highest sequence number) nothing is lost or counted twice.

A full refresh is made durable before it destroys anything: a marker object
is written first and deleted only after the refreshing run's commit. A run
that finds the marker finishes the refresh (drops and rebuilds again), so a
crash anywhere in a refresh never leaves silver emptied behind a manifest
that says everything was processed.

Manifests accumulate one per run; when there are many, they are compacted
into one (written first, the old ones deleted after, so a crash in between
only leaves redundant entries).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, List, Set

from todo_core import lake
from todo_lake.store import LakeStore

MANIFEST_PREFIX = lake.STATE_PREFIX + "manifest/"
#: Present from the start of a full refresh until the manifest commit that ends it.
REFRESH_MARKER = lake.STATE_PREFIX + "full-refresh-in-progress.json"
COMPACT_AFTER = 64


class Manifest:
    def __init__(self, store: LakeStore) -> None:
        self.store = store

    def _files(self) -> List[str]:
        return sorted(k for k in self.store.list_keys(MANIFEST_PREFIX) if k.endswith(".json"))

    def processed(self) -> Set[str]:
        done: Set[str] = set()
        for key in self._files():
            done.update(self.store.get_json(key)["objects"])
        return done

    def commit(self, run_id: str, objects: Iterable[str], counts: Dict[str, Any]) -> str:
        key = f"{MANIFEST_PREFIX}run-{run_id}.json"
        self.store.put_json(
            key,
            {
                "run_id": run_id,
                "committed_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                "objects": sorted(objects),
                "counts": counts,
            },
        )
        return key

    def compact(self, run_id: str) -> None:
        files = self._files()
        if len(files) <= COMPACT_AFTER:
            return
        everything = self.processed()
        self.store.put_json(
            f"{MANIFEST_PREFIX}run-{run_id}-compacted.json",
            {
                "run_id": run_id,
                "objects": sorted(everything),
                "counts": {},
                "compacted": len(files),
            },
        )
        self.store.delete_keys(files)

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
