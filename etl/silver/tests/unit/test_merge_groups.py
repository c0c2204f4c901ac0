"""Current state is merged in groups sized by bytes, not by a count of
partitions: memory holds one group, whatever the partitions' sizes."""

from hypothesis import given
from hypothesis import strategies as st

from todo_silver.state_merge import merge_groups

MIB = 1 << 20


def test_groups_are_bounded_by_bytes_and_a_large_partition_goes_alone():
    sizes = {"a": 40 * MIB, "b": 40 * MIB, "c": 10 * MIB, "d": 200 * MIB, "e": 1 * MIB}
    assert merge_groups(sizes, 64 * MIB) == [["a"], ["b", "c"], ["d"], ["e"]]


def test_many_small_partitions_share_a_group():
    sizes = {f"2025-01-{d:02d}": 100_000 for d in range(1, 31)}
    assert merge_groups(sizes, 64 * MIB) == [sorted(sizes)]
    assert merge_groups({}, 64 * MIB) == []


def test_partitions_that_fill_the_budget_exactly_share_a_group():
    sizes = {"a": 30, "b": 34, "c": 64, "d": 1, "e": 63}
    assert merge_groups(sizes, 64) == [["a", "b"], ["c"], ["d", "e"]]


def test_a_first_partition_over_the_budget_goes_alone_and_no_group_is_empty():
    assert merge_groups({"a": 100, "b": 1}, 64) == [["a"], ["b"]]
    assert merge_groups({"a": 100}, 64) == [["a"]]


def test_the_default_group_is_16_mib_of_parquet():
    """The README's measured budget (about 300 MiB of memory per group)."""
    from todo_silver.settings import SilverSettings
    from todo_silver.state_merge import DEFAULT_MERGE_MB

    assert DEFAULT_MERGE_MB == 16
    assert SilverSettings.model_fields["merge_mb"].default == 16


@given(
    sizes=st.dictionaries(st.text(max_size=4), st.integers(0, 100), max_size=30),
    budget=st.integers(1, 120),
)
def test_groups_cover_every_partition_in_order_within_the_budget(sizes, budget):
    groups = merge_groups(sizes, budget)
    assert [v for g in groups for v in g] == sorted(sizes)
    for group, following in zip(groups, [*groups[1:], None]):
        assert group, "no empty group"
        total = sum(sizes[v] for v in group)
        assert total <= budget or len(group) == 1
        if following is not None:
            # Greedy: the next partition did not fit (else it would have joined).
            assert total + sizes[following[0]] > budget
