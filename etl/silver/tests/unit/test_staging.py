"""Where a run's rows wait: staging areas on local disk, latest state rows in memory."""

import pyarrow as pa
import pytest

from todo_silver.staging import ORDINAL, LatestRows, StagingArea


def test_a_staging_area_keeps_rows_by_partition_in_staging_order(tmp_path):
    staging = StagingArea(str(tmp_path), "t", "day")
    staging.add(pa.table({"day": ["d2", "d1", "d2"], "v": [1, 2, 3], "empty": pa.nulls(3)}))
    staging.add(pa.table({"day": ["d1"], "v": [4]}))
    staging.add(None)
    assert staging.values() == ["d1", "d2"]
    assert staging.rows == 4
    d1 = staging.read("d1")
    assert d1.column_names == ["v", ORDINAL]  # no partition column, no all-null column
    assert d1.to_pylist() == [{"v": 2, ORDINAL: 1}, {"v": 4, ORDINAL: 3}]
    staging.remove("d1")
    assert staging.values() == ["d2"]
    assert list((tmp_path / "t").rglob("*.arrow")) != []
    with pytest.raises(ValueError, match="without a day"):
        staging.add(pa.table({"day": pa.array([None], pa.string()), "v": [5]}))


def test_latest_rows_keep_the_highest_sequence_number_per_key():
    latest = LatestRows(("k",))
    latest.add(
        pa.table({"k": ["a", "b"], "sequence_number": ["01", "05"], "is_deleted": [False] * 2})
    )
    latest.add(pa.table({"k": ["a"], "sequence_number": ["03"], "is_deleted": [True]}))
    latest.add(pa.table({"k": ["b"], "sequence_number": ["02"], "is_deleted": [False]}))
    got = sorted(latest.result().to_pylist(), key=lambda r: r["k"])
    assert got == [
        {"k": "a", "sequence_number": "03", "is_deleted": True},
        {"k": "b", "sequence_number": "05", "is_deleted": False},
    ]
    assert LatestRows(("k",)).result() is None
