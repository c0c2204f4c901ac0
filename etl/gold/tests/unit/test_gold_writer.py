"""The gold writer's rules, on an in-memory bucket and catalog (no emulator):
each version in a directory named after its content, the catalog switched
only once every file of the new version is written, the replaced files
deleted only after the switch, unchanged versions kept, what a crashed run
left behind reused or cleaned by the next run. The same guarantees against
the emulator: tests/integration/test_gold_atomic.py and test_lake_io.py."""

from __future__ import annotations

import io
import json
import threading
from typing import Any, Dict, List, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.memory_lake import MemoryLake
from todo_gold.gold_writer import (
    GoldWriter,
    TableWrite,
    content_name,
    parquet_bytes,
    version_directory,
)
from todo_lake import catalog, s3io
from todo_lake.s3io import ObjectError

DAY1, DAY2, DAY3 = "2025-01-01", "2025-01-02", "2025-01-03"


@pytest.fixture
def lake(monkeypatch: pytest.MonkeyPatch) -> MemoryLake:
    memory = MemoryLake(bucket="gold", database="lake")
    monkeypatch.setattr(catalog, "ensure_table", memory.ensure_table)
    monkeypatch.setattr(catalog, "add_partitions", memory.add_partitions)
    return memory


def writer(lake: MemoryLake) -> GoldWriter:
    # The bucket as a URL: the writer keeps its name.
    return GoldWriter("s3://gold/", lake.database, lake.s3, lake.glue, threads=2, http=lake.http)


def write(
    lake: MemoryLake,
    table: str,
    rows: pa.Table,
    partition_cols: Sequence[str] = (),
    mode: str = "overwrite",
) -> TableWrite:
    w = writer(lake)
    w.start({table: partition_cols})
    w.write(table, rows, partition_cols, mode)
    return w.finish()[table]


def outcome(result: TableWrite) -> tuple:
    return (result.rows, result.files_written, result.files_unchanged, result.files_deleted)


def version_key(prefix: str, rows: pa.Table) -> str:
    """Where the writer puts ``rows`` under ``prefix``: ``v-<hash>/<hash>.snappy.parquet``."""
    name = content_name(parquet_bytes(rows))
    return version_directory(prefix, name) + name


def rows_of(table: pa.Table) -> List[Dict[str, Any]]:
    return sorted(table.to_pylist(), key=repr)


def days(*pieces: tuple) -> pa.Table:
    """A partitioned table: ``(day, [values])`` pieces."""
    values = [v for _, vs in pieces for v in vs]
    dates = [d for d, vs in pieces for _ in vs]
    return pa.table({"v": pa.array(values, pa.int64()), "d": pa.array(dates, pa.string())})


# --- one file per version, named after its content ------------------------------------------


def test_a_version_is_named_after_the_sha256_of_its_file() -> None:
    name = content_name(b"abc")
    assert name == "ba7816bf8f01cfea414140de5dae2223.snappy.parquet"  # sha256("abc")[:32]
    assert version_directory("t/d=1/", name) == "t/d=1/v-ba7816bf8f01cfea414140de5dae2223/"
    assert version_directory("", name) == "v-ba7816bf8f01cfea414140de5dae2223/"


# --- unpartitioned tables -------------------------------------------------------------------


def test_a_first_write_creates_the_table_pointing_at_its_first_version(lake) -> None:
    rows = pa.table({"user_id": ["u1", "u2"], "n": pa.array([1, 2], pa.int64())})
    result = write(lake, "users", rows)
    key = version_key("users/", rows)
    assert sorted(lake.objects) == [key]
    assert lake.objects[key] == parquet_bytes(rows)
    assert lake.content_types[key] == "application/octet-stream"
    location = "s3://gold/" + key.rsplit("/", 1)[0] + "/"
    assert lake.tables["users"]["StorageDescriptor"]["Location"] == location
    # Created pointing at the version: no moment without a location.
    assert lake.requests("ensure_table")[0][1] == location
    assert lake.columns("users") == {"user_id": "string", "n": "bigint"}
    assert lake.read("users") == rows_of(rows)
    assert outcome(result) == (2, 1, 0, 0)
    assert result.replaced == []


def test_rewriting_the_same_rows_writes_nothing_and_switches_nothing(lake) -> None:
    rows = pa.table({"v": [1, 2]})
    write(lake, "w", rows)
    before = dict(lake.objects)
    lake.calls.clear()
    again = write(lake, "w", rows)
    assert outcome(again) == (2, 0, 1, 0)
    assert lake.objects == before
    assert lake.requests("put") == []
    assert lake.requests("update_table") == []
    assert lake.requests("delete") == []


def test_changed_rows_are_written_then_switched_to_then_the_old_file_deleted(lake) -> None:
    old, new = pa.table({"v": [1]}), pa.table({"v": [2, 3]})
    write(lake, "w", old)
    lake.calls.clear()
    result = write(lake, "w", new)
    old_key, new_key = version_key("w/", old), version_key("w/", new)
    assert outcome(result) == (2, 1, 0, 1)
    assert result.replaced == [old_key]
    assert sorted(lake.objects) == [new_key]
    assert lake.read("w") == rows_of(new)
    steps = [(r, d) for r, d in lake.calls if r in ("put", "update_table", "delete")]
    assert [r for r, _ in steps] == ["put", "update_table", "delete"]
    assert steps[0][1] == new_key
    assert steps[1][1][1]["Location"] == "s3://gold/" + new_key.rsplit("/", 1)[0] + "/"
    assert steps[2][1] == [old_key]


def test_a_file_s3_refuses_to_delete_is_not_counted_and_the_next_run_deletes_it(
    lake, capsys: pytest.CaptureFixture
) -> None:
    # DeleteObjects answers 200 and lists the keys it did not delete under
    # Errors: the run must not report them deleted, and the file must not be
    # forgotten (it is no version the catalog holds, so the next run's listing
    # finds it replaced again).
    first, second, third = pa.table({"v": [1]}), pa.table({"v": [2]}), pa.table({"v": [3]})
    write(lake, "w", first)
    refused = version_key("w/", first)
    lake.fail_delete = lambda key: key == refused
    result = write(lake, "w", second)
    assert result.replaced == [refused]
    assert result.files_deleted == 0
    assert refused in lake.objects
    assert lake.read("w") == rows_of(second)
    warning = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (warning["level"], warning["message"]) == ("WARNING", "gold files not deleted")
    assert warning["keys"] == [refused]
    lake.fail_delete = lambda key: False
    result = write(lake, "w", third)
    assert sorted(result.replaced) == sorted([refused, version_key("w/", second)])
    assert result.files_deleted == 2
    assert sorted(lake.objects) == [version_key("w/", third)]


def test_an_empty_result_points_the_table_at_an_empty_directory(lake) -> None:
    write(lake, "w", pa.table({"v": [1]}))
    emptied = write(lake, "w", pa.table({"v": pa.array([], pa.int64())}))
    assert outcome(emptied) == (0, 0, 0, 1)
    assert lake.tables["w"]["StorageDescriptor"]["Location"] == "s3://gold/w/v-empty/"
    assert lake.objects == {}
    assert lake.read("w") == []
    # A table that is empty from its first run exists, with its columns.
    first = write(lake, "e", pa.table({"v": pa.array([], pa.int64())}))
    assert outcome(first) == (0, 0, 0, 0)
    assert lake.tables["e"]["StorageDescriptor"]["Location"] == "s3://gold/e/v-empty/"
    assert lake.columns("e") == {"v": "bigint"}


def test_new_columns_reach_the_catalog_and_existing_types_stand(lake) -> None:
    write(lake, "w", pa.table({"v": pa.array([1], pa.int64())}))
    write(lake, "w", pa.table({"v": pa.array([1], pa.int32()), "extra": ["x"]}))
    assert lake.columns("w") == {"v": "bigint", "extra": "string"}
    assert lake.read("w") == [{"v": 1, "extra": "x"}]


def test_a_new_column_keeps_readers_on_the_old_version_until_the_switch(lake, monkeypatch) -> None:
    old = pa.table({"v": pa.array([1], pa.int64())})
    write(lake, "w", old)
    old_location = lake.tables["w"]["StorageDescriptor"]["Location"]

    def refused(**_: Any) -> None:
        raise RuntimeError("UpdateTable refused")

    monkeypatch.setattr(lake.glue, "update_table", refused)
    w = writer(lake)
    w.write("w", pa.table({"v": pa.array([2], pa.int64()), "extra": ["x"]}), (), "overwrite")
    with pytest.raises(RuntimeError, match="UpdateTable refused"):
        w.finish()
    # The column was added, the location left as it was: the old rows, no mixture.
    assert lake.columns("w") == {"v": "bigint", "extra": "string"}
    assert lake.tables["w"]["StorageDescriptor"]["Location"] == old_location
    assert lake.read("w") == [{"v": 1, "extra": None}]


# --- partitioned tables ---------------------------------------------------------------------


def test_each_partition_gets_its_own_version_and_catalog_entry(lake) -> None:
    rows = days((DAY1, [1, 2]), (DAY2, [3]))
    result = write(lake, "g", rows, ("d",), "overwrite_partitions")
    assert outcome(result) == (3, 2, 0, 0)
    day1 = version_key(f"g/d={DAY1}/", pa.table({"v": pa.array([1, 2], pa.int64())}))
    day2 = version_key(f"g/d={DAY2}/", pa.table({"v": pa.array([3], pa.int64())}))
    assert sorted(lake.objects) == [day1, day2]
    assert lake.locations("g") == {
        (DAY1,): "s3://gold/" + day1.rsplit("/", 1)[0] + "/",
        (DAY2,): "s3://gold/" + day2.rsplit("/", 1)[0] + "/",
    }
    # The table's own location is its folder; its columns leave the partition column out.
    assert lake.tables["g"]["StorageDescriptor"]["Location"] == "s3://gold/g/"
    assert lake.columns("g") == {"v": "bigint"}
    assert [k["Name"] for k in lake.tables["g"]["PartitionKeys"]] == ["d"]
    assert lake.read("g") == rows_of(rows)


def test_a_partial_rewrite_moves_changed_partitions_adds_new_ones_and_keeps_the_rest(lake) -> None:
    write(lake, "g", days((DAY1, [1, 2]), (DAY2, [3])), ("d",), "overwrite_partitions")
    day1_location = lake.locations("g")[(DAY1,)]
    lake.calls.clear()
    # Day 1 is not recomputed; day 2 changes; day 3 is new.
    result = write(lake, "g", days((DAY2, [4]), (DAY3, [5])), ("d",), "overwrite_partitions")
    assert outcome(result) == (2, 2, 0, 1)
    assert lake.locations("g")[(DAY1,)] == day1_location
    assert lake.read("g") == rows_of(days((DAY1, [1, 2]), (DAY2, [4]), (DAY3, [5])))
    (added,) = lake.requests("add_partitions")
    assert list(added[1].values()) == [[DAY3]]
    (moved,) = lake.requests("batch_update_partition")
    assert [e["PartitionValueList"] for e in moved[1]] == [[DAY2]]
    assert len(lake.objects) == 3
    # Unchanged partitions computed again are kept as they are.
    lake.calls.clear()
    same = write(lake, "g", days((DAY1, [1, 2]), (DAY3, [5])), ("d",), "overwrite_partitions")
    assert outcome(same) == (3, 0, 2, 0)
    assert lake.requests("put") == []
    assert lake.requests("batch_update_partition") == []
    assert lake.requests("delete") == []


def test_a_new_column_of_a_partitioned_table_keeps_its_locations(lake) -> None:
    write(lake, "g", days((DAY1, [1]), (DAY2, [2])), ("d",), "overwrite_partitions")
    before = lake.locations("g")
    rows = days((DAY2, [3])).append_column("extra", pa.array(["x"]))
    write(lake, "g", rows, ("d",), "overwrite_partitions")
    assert lake.columns("g") == {"v": "bigint", "extra": "string"}
    assert lake.tables["g"]["StorageDescriptor"]["Location"] == "s3://gold/g/"
    assert lake.locations("g")[(DAY1,)] == before[(DAY1,)]
    assert lake.read("g") == rows_of(
        pa.table({"v": [1, 3], "d": [DAY1, DAY2], "extra": [None, "x"]})
    )


def test_no_partition_computed_replaces_nothing(lake) -> None:
    write(lake, "g", days((DAY1, [1])), ("d",), "overwrite_partitions")
    before = dict(lake.objects)
    lake.calls.clear()
    result = write(lake, "g", days(), ("d",), "overwrite_partitions")
    assert outcome(result) == (0, 0, 0, 0)
    assert lake.objects == before
    assert lake.requests("ensure_table") == []
    assert lake.read("g") == [{"v": 1, "d": DAY1}]


# --- failures: readers see the old version, the next run finishes the job -------------------


def test_a_refused_put_switches_nothing_and_deletes_nothing(lake) -> None:
    old = days((DAY1, [1]), (DAY2, [2]))
    write(lake, "g", old, ("d",), "overwrite_partitions")
    write(lake, "w", pa.table({"v": [1]}))
    before = {"g": lake.read("g"), "w": lake.read("w")}
    lake.calls.clear()
    lake.fail_put = lambda key: key.startswith(f"g/d={DAY2}/")
    w = writer(lake)
    w.start({"g": ("d",), "w": ()})
    w.write("g", days((DAY1, [7]), (DAY2, [8])), ("d",), "overwrite_partitions")
    w.write("w", pa.table({"v": [9]}), (), "overwrite")
    with pytest.raises(ObjectError, match=r"^PUT s3://gold/g/d=2025-01-02/v-.* HTTP 500"):
        w.finish()
    # Day 1's new file was written, but no partition of g was switched, and no
    # file was deleted: readers still see the old g.
    assert lake.read("g") == before["g"]
    assert lake.requests("batch_update_partition") == []
    assert lake.requests("add_partitions") == []
    assert lake.requests("delete") == []
    # The next run reuses the file left behind and cleans up.
    lake.fail_put = lambda key: False
    lake.calls.clear()
    result = write(lake, "g", days((DAY1, [7]), (DAY2, [8])), ("d",), "overwrite_partitions")
    assert outcome(result) == (2, 1, 0, 2)
    assert lake.requests("put") == [version_key(f"g/d={DAY2}/", pa.table({"v": [8]}))]
    assert lake.read("g") == rows_of(days((DAY1, [7]), (DAY2, [8])))
    assert sorted(lake.objects) == sorted(
        [
            version_key(f"g/d={DAY1}/", pa.table({"v": [7]})),
            version_key(f"g/d={DAY2}/", pa.table({"v": [8]})),
            *[k for k in lake.objects if k.startswith("w/")],
        ]
    )


def test_a_failed_catalog_switch_deletes_nothing_and_the_next_run_reuses_the_file(
    lake, monkeypatch
) -> None:
    old, new = pa.table({"v": [1]}), pa.table({"v": [2]})
    write(lake, "w", old)

    def refused(**_: Any) -> None:
        raise RuntimeError("UpdateTable refused")

    with monkeypatch.context() as patch:
        patch.setattr(lake.glue, "update_table", refused)
        w = writer(lake)
        w.start({"w": ()})
        w.write("w", new, (), "overwrite")
        with pytest.raises(RuntimeError, match="UpdateTable refused"):
            w.finish()
    assert lake.read("w") == rows_of(old)
    assert sorted(lake.objects) == sorted([version_key("w/", old), version_key("w/", new)])
    lake.calls.clear()
    result = write(lake, "w", new)
    assert outcome(result) == (1, 0, 0, 1)  # the crashed run's file, not written again
    assert lake.requests("put") == []
    assert lake.read("w") == rows_of(new)
    assert sorted(lake.objects) == [version_key("w/", new)]


def test_files_no_version_points_at_are_deleted_and_only_those(lake) -> None:
    rows = pa.table({"v": [1]})
    write(lake, "w", rows)
    lake.put_parquet("w/v-left-over/left-over.snappy.parquet", pa.table({"v": [99]}))
    lake.put_parquet("other/v-x/x.snappy.parquet", pa.table({"v": [98]}))
    result = write(lake, "w", rows)
    assert outcome(result) == (1, 0, 1, 1)
    assert result.replaced == ["w/v-left-over/left-over.snappy.parquet"]
    assert sorted(lake.objects) == ["other/v-x/x.snappy.parquet", version_key("w/", rows)]


def test_deletes_go_1000_keys_per_request(lake) -> None:
    rows = pa.table({"v": [1]})
    left = [f"w/v-old/{i:04d}.snappy.parquet" for i in range(1001)]
    for key in left:
        lake.objects[key] = b"x"
    result = write(lake, "w", rows)
    assert result.files_deleted == 1001
    assert [len(batch) for batch in lake.requests("delete")] == [1000, 1]
    assert sorted(k for batch in lake.requests("delete") for k in batch) == left
    assert sorted(lake.objects) == [version_key("w/", rows)]


# --- the run's shape ------------------------------------------------------------------------


def test_both_modes_are_accepted_and_another_is_refused(lake) -> None:
    w = writer(lake)
    with pytest.raises(ValueError, match=r"^unknown mode 'append'$"):
        w.write("w", pa.table({"v": [1]}), (), "append")
    w.write("a", pa.table({"v": [1]}), (), "overwrite")
    w.write("b", days((DAY1, [1])), ("d",), "overwrite_partitions")
    assert sorted(w.finish()) == ["a", "b"]


def test_the_catalog_is_read_once_per_run_and_a_table_not_started_is_listed_first(lake) -> None:
    write(lake, "g", days((DAY1, [1])), ("d",), "overwrite_partitions")
    lake.put_parquet("g/v-left-over/x.snappy.parquet", pa.table({"v": [1]}))
    lake.calls.clear()
    w = writer(lake)
    w.start({"w": ()})
    w.start({"x": ()})
    w.write("w", pa.table({"v": [1]}), (), "overwrite")
    # Not started: its files and partitions are read before it is written.
    w.write("g", days((DAY1, [2])), ("d",), "overwrite_partitions")
    results = w.finish()
    assert len(lake.requests("get_tables")) == 1
    assert sorted(lake.requests("list")) == ["g/", "w/", "x/"]
    assert lake.requests("get_partitions") == ["g"]
    assert results["g"].replaced[-1] == "g/v-left-over/x.snappy.parquet"
    assert lake.read("g") == [{"v": 2, "d": DAY1}]


def test_close_waits_for_the_writes_in_flight(lake, monkeypatch) -> None:
    """A run that fails elsewhere closes the writer: no request may still be
    running once ``close`` returns."""
    release = threading.Event()
    original = lake.http.request

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(5)
        return original(*args, **kwargs)

    monkeypatch.setattr(lake.http, "request", slow)
    w = writer(lake)
    w.write("w", pa.table({"v": [1]}), (), "overwrite")
    threading.Timer(0.5, release.set).start()
    w.close()
    assert lake.requests("put") == [version_key("w/", pa.table({"v": [1]}))]
    assert lake.tables["w"]["StorageDescriptor"]["Location"].startswith("s3://gold/w/v-")


def test_close_waits_for_the_look_ups_in_flight(lake, monkeypatch) -> None:
    """Tables started but never written: their listings and catalog reads
    end before ``close`` returns."""
    release = threading.Event()
    original = lake.s3.get_paginator

    def slow(name: str) -> Any:
        release.wait(5)
        return original(name)

    monkeypatch.setattr(lake.s3, "get_paginator", slow)
    w = writer(lake)
    w.start({"x": (), "y": ()})
    threading.Timer(0.5, release.set).start()
    w.close()
    assert sorted(lake.requests("list")) == ["x/", "y/"]


def test_default_clients_have_a_connection_for_every_worker(monkeypatch) -> None:
    made: Dict[str, Any] = {}
    monkeypatch.setattr(s3io, "s3_client", lambda pool: made.setdefault("s3", pool))
    monkeypatch.setattr(s3io, "http_pool", lambda size: made.setdefault("http", size))

    class Session:
        def client(self, name: str) -> str:
            made["glue"] = name
            return name

    monkeypatch.setattr(catalog, "session", Session)
    w = GoldWriter("gold", "lake", threads=3)
    w.close()
    assert w.bucket == "gold"
    assert made["glue"] == "glue"
    assert w.glue == "glue"
    # Every request thread has a connection; the S3 client also serves the listings.
    assert made["http"] >= 3
    assert made["s3"] >= 3 + 1


# --- last: the slowest (a property over many tables) ---------------------------------------


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=30), st.data())
def test_the_same_rows_give_the_same_bytes_however_they_are_chunked(values, data) -> None:
    whole = pa.table({"v": pa.array(values, pa.int64())})
    cut = data.draw(st.integers(0, len(values)))
    chunked = pa.concat_tables([whole.slice(0, cut), whole.slice(cut)])
    chunked = chunked.replace_schema_metadata({"written_by": "someone"})
    body = parquet_bytes(whole)
    assert parquet_bytes(chunked) == body
    read = pq.ParquetFile(io.BytesIO(body))
    assert read.read().to_pylist() == whole.to_pylist()
    assert read.metadata.num_row_groups == 1
    assert read.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert b"written_by" not in body
