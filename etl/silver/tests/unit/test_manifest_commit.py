"""The manifest: what a commit records, where, and what the next run reads back.

A lost or misplaced manifest makes the next run reprocess its whole window; a
manifest that forgets a key inside the window makes a run read it twice (safe,
but costly), and one that remembers a key it never processed loses it.
"""

from __future__ import annotations

import datetime as dt

from tests.memory_s3 import CountingS3
from todo_lake.store import LakeStore
from todo_silver.manifest import DEFAULT_LATENESS_HOURS, Manifest, ManifestState

UTC = dt.timezone.utc


def _manifest():
    bucket = CountingS3()
    return Manifest(LakeStore("silver", "db", s3_client=bucket)), bucket


def _key(day: int, hour: int, name: str = "obj") -> str:
    return f"cdc/2025/01/{day:02d}/{hour:02d}/{name}"


def test_a_committed_run_is_read_back_by_the_next_one() -> None:
    manifest, bucket = _manifest()
    objects = [_key(3, 5, "a"), _key(3, 7, "b"), _key(2, 23, "c")]

    key = manifest.commit("r1", manifest.load(), objects, {"events_read": 3})

    # Existing lakes keep their manifest here: a move would make the next run
    # start without one and reprocess its whole window.
    assert key == "_state/manifest/run-r1.json"
    assert bucket.keys == [key]
    state = manifest.load()
    assert state.processed == set(objects)
    assert manifest.processed() == set(objects)
    assert state.watermark == dt.datetime(2025, 1, 3, 7, tzinfo=UTC)
    assert state.files == [key]


def test_a_commit_records_the_run_for_whoever_reads_it() -> None:
    """Operators read the manifest to see which run processed what, and when."""
    manifest, _ = _manifest()
    before = dt.datetime.now(UTC)

    key = manifest.commit(
        "r7", manifest.load(lateness_hours=5), [_key(3, 7, "b"), _key(3, 5, "a")], {"n": 2}
    )

    record = manifest.store.get_json(key)
    assert record["run_id"] == "r7"
    assert record["watermark"] == "2025-01-03T07:00:00+00:00"
    assert record["lateness_hours"] == 5
    assert record["objects"] == [_key(3, 5, "a"), _key(3, 7, "b")]
    assert record["counts"] == {"n": 2}
    committed = dt.datetime.fromisoformat(record["committed_at"])
    assert before <= committed <= dt.datetime.now(UTC)


def test_the_default_window_is_48_hours_behind_the_newest_hour() -> None:
    manifest, _ = _manifest()
    manifest.commit("r1", manifest.load(), [_key(10, 12)], {})

    state = manifest.load()

    assert DEFAULT_LATENESS_HOURS == 48  # the README's documented default
    assert state.lateness_hours == 48
    assert state.since == dt.datetime(2025, 1, 8, 12, tzinfo=UTC)
    assert manifest.load(lateness_hours=3).since == dt.datetime(2025, 1, 10, 9, tzinfo=UTC)


def test_only_keys_a_later_run_can_list_again_are_remembered() -> None:
    """The window's oldest hour is listed again (kept); anything older is not
    (forgotten); a key outside the bronze layouts has no hour (forgotten)."""
    manifest, _ = _manifest()
    newest, at_edge, too_old = _key(10, 12), _key(10, 9), _key(10, 8)

    manifest.commit("r1", manifest.load(lateness_hours=3), [newest, at_edge, too_old], {})
    manifest.commit("r2", manifest.load(lateness_hours=3), ["elsewhere/x"], {})

    assert manifest.load(lateness_hours=3).processed == {newest, at_edge}


def test_before_any_hour_is_known_every_key_is_remembered() -> None:
    manifest, _ = _manifest()
    manifest.commit("r1", manifest.load(), ["elsewhere/x", "elsewhere/y"], {})

    state = manifest.load()

    assert state.processed == {"elsewhere/x", "elsewhere/y"}
    assert state.watermark is None
    assert state.since is None


def test_a_commit_replaces_the_manifests_it_read_and_only_those() -> None:
    manifest, bucket = _manifest()
    first = manifest.commit("r1", manifest.load(), [_key(1, 1, "a")], {})
    second = manifest.commit("r2", manifest.load(), [_key(1, 2, "b")], {})

    assert bucket.keys == [second]
    assert first != second
    assert manifest.load().processed == {_key(1, 1, "a"), _key(1, 2, "b")}


def test_a_crash_between_the_put_and_the_delete_leaves_the_same_record() -> None:
    """Two manifests are read as their union."""
    manifest, bucket = _manifest()
    state = manifest.load()
    manifest.commit("r1", state, [_key(1, 1, "a")], {})
    manifest.commit("r2", state, [_key(1, 2, "b")], {})  # read before r1's commit

    assert len(bucket.keys) == 2
    assert manifest.load().processed == {_key(1, 1, "a"), _key(1, 2, "b")}


def test_a_run_that_commits_again_under_its_own_id_keeps_its_manifest() -> None:
    manifest, bucket = _manifest()
    key = manifest.commit("r1", manifest.load(), [_key(1, 1, "a")], {})

    again = manifest.commit("r1", manifest.load(), [_key(1, 2, "b")], {})

    assert again == key
    assert bucket.keys == [key]
    assert manifest.load().processed == {_key(1, 1, "a"), _key(1, 2, "b")}


def test_objects_under_the_prefix_that_are_not_manifests_are_ignored() -> None:
    manifest, bucket = _manifest()
    bucket.add("_state/manifest/notes.txt", b"not json")
    manifest.commit("r1", manifest.load(), [_key(1, 1, "a")], {})

    assert manifest.load().processed == {_key(1, 1, "a")}
    assert "_state/manifest/notes.txt" in bucket.keys


def test_a_reset_forgets_everything() -> None:
    manifest, bucket = _manifest()
    manifest.commit("r1", manifest.load(), [_key(1, 1, "a")], {})
    bucket.add("_state/other.json", b"{}")

    manifest.reset()

    assert manifest.load().processed == set()
    assert bucket.keys == ["_state/other.json"]


def test_a_full_refresh_is_pending_from_its_start_until_its_end() -> None:
    manifest, bucket = _manifest()
    bucket.add("_state/full-refresh-in-progress.json.old", b"{}")
    assert not manifest.refresh_pending()

    manifest.begin_refresh("r9")

    assert manifest.refresh_pending()
    # Where an interrupted refresh is found by the next run, whatever its release.
    marker = manifest.store.get_json("_state/full-refresh-in-progress.json")
    assert marker["run_id"] == "r9"
    assert dt.datetime.fromisoformat(marker["started_at"]).tzinfo is not None

    manifest.end_refresh()

    assert not manifest.refresh_pending()
    assert bucket.keys == ["_state/full-refresh-in-progress.json.old"]


def test_a_state_of_processed_keys_alone_has_the_default_window_and_no_files() -> None:
    state = ManifestState({_key(10, 12)}, dt.datetime(2025, 1, 10, 12, tzinfo=UTC))

    assert state.since == dt.datetime(2025, 1, 8, 12, tzinfo=UTC)
    assert state.files == []
