"""Current state is merged in groups sized by bytes, not by a count of
partitions: memory holds one group, whatever the partitions' sizes."""

from todo_silver.state_merge import merge_groups

MIB = 1 << 20


def test_groups_are_bounded_by_bytes_and_a_large_partition_goes_alone():
    sizes = {"a": 40 * MIB, "b": 40 * MIB, "c": 10 * MIB, "d": 200 * MIB, "e": 1 * MIB}
    assert merge_groups(sizes, 64 * MIB) == [["a"], ["b", "c"], ["d"], ["e"]]


def test_many_small_partitions_share_a_group():
    sizes = {f"2025-01-{d:02d}": 100_000 for d in range(1, 31)}
    assert merge_groups(sizes, 64 * MIB) == [sorted(sizes)]
    assert merge_groups({}, 64 * MIB) == []
