"""The key design: round trips for any id, no collisions, exact due-date bounds."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from todo_core import keys
from todo_core.models import TaskPriority, TaskStatus, normalize_category

# Any text DynamoDB can store (no lone surrogates), including the separators.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("#%23%25~$ "),
        st.characters(blacklist_categories=("Cs",)),
    ),
    min_size=1,
)
DATES = st.one_of(st.none(), st.dates())


@given(user_id=ANY_TEXT, task_id=ANY_TEXT)
def test_task_key_round_trips(user_id: str, task_id: str) -> None:
    key = keys.task_key(user_id, task_id)
    assert keys.parse_task_key(key) == (user_id, task_id)
    assert keys.entity_of(key) == ("task", user_id)


@given(user_id=ANY_TEXT)
def test_user_key_round_trips(user_id: str) -> None:
    key = keys.user_key(user_id)
    assert keys.parse_user_key(key) == user_id
    assert keys.entity_of(key) == ("user", user_id)


@given(user_id=ANY_TEXT, category=ANY_TEXT)
def test_category_partition_round_trips(user_id: str, category: str) -> None:
    normalized = normalize_category(category)
    assume(normalized is not None)
    partition = keys.category_partition(user_id, normalized)
    assert keys.parse_index_partition(partition) == (user_id, "CATEGORY", normalized)


@given(user_id=ANY_TEXT, status=st.sampled_from(list(TaskStatus)))
def test_status_partition_round_trips(user_id: str, status: TaskStatus) -> None:
    partition = keys.status_partition(user_id, status.value)
    assert keys.parse_index_partition(partition) == (user_id, "STATUS", status.value)


@given(user_id=ANY_TEXT, priority=st.sampled_from(list(TaskPriority)))
def test_priority_partition_round_trips(user_id: str, priority: TaskPriority) -> None:
    partition = keys.priority_partition(user_id, priority.value)
    assert keys.parse_index_partition(partition) == (user_id, "PRIORITY", priority.value)


@given(due=DATES, task_id=ANY_TEXT)
def test_due_sort_key_round_trips(due: Optional[dt.date], task_id: str) -> None:
    assert keys.parse_due_sort_key(keys.due_sort_key(due, task_id)) == (due, task_id)


@given(a=ANY_TEXT, b=ANY_TEXT, category_a=ANY_TEXT, category_b=ANY_TEXT)
def test_distinct_users_never_share_a_partition(
    a: str, b: str, category_a: str, category_b: str
) -> None:
    assume(a != b)
    assert keys.task_partition(a) != keys.task_partition(b)
    assert keys.user_key(a) != keys.user_key(b)
    assert keys.category_partition(a, category_a) != keys.category_partition(b, category_b)
    for status in TaskStatus:
        assert keys.status_partition(a, status.value) != keys.status_partition(b, status.value)


@given(user_id=ANY_TEXT, task_id=ANY_TEXT)
def test_escaped_components_hold_no_separator(user_id: str, task_id: str) -> None:
    assert "#" not in keys.escape(user_id)
    assert keys.unescape(keys.escape(task_id)) == task_id


@given(
    due=DATES,
    task_id=ANY_TEXT,
    after=st.one_of(st.none(), st.dates()),
    before=st.one_of(st.none(), st.dates()),
)
def test_due_range_is_exact_and_inclusive(
    due: Optional[dt.date], task_id: str, after: Optional[dt.date], before: Optional[dt.date]
) -> None:
    """BETWEEN low AND high on the sort key selects exactly the tasks due in
    [after, before], whatever the task id holds; undated tasks never match.
    (Python compares str by code point, the same order as DynamoDB's UTF-8
    byte order.)"""
    low, high = keys.due_range(after, before)
    sort = keys.due_sort_key(due, task_id)
    selected = low <= sort <= high
    expected = (
        due is not None and (after is None or due >= after) and (before is None or due <= before)
    )
    assert selected == expected


def test_undated_tasks_sort_after_every_date() -> None:
    assert keys.due_sort_key(dt.date(9999, 12, 31), "z") < keys.due_sort_key(None, "a")
    assert keys.due_sort_key(dt.date(1, 1, 1), "z") < keys.due_sort_key(dt.date(1, 1, 2), "a")


@pytest.mark.parametrize(
    "key",
    [
        keys.idempotency_key("user#request"),
        keys.stats_key(3),
        keys.kpi_counter_key("shardId-00000001-abc"),
        keys.activity_key(dt.date(2030, 1, 1), "user-1"),
        {keys.PK: "TASK#u", keys.SK: "PROFILE"},
        {keys.PK: "USER#u", keys.SK: "TASK#t"},
        {},
    ],
)
def test_bookkeeping_items_are_not_domain_entities(key: dict) -> None:
    assert keys.entity_of(key) is None


@pytest.mark.parametrize(
    "bad",
    ["TASK#u", "TASK#u#STATUS", "USER#u#STATUS#x", "TASK#u#COLOUR#red", "TASK#u#STATUS#a#b"],
)
def test_parse_index_partition_rejects_other_strings(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^not an index partition: "):
        keys.parse_index_partition(bad)


def test_parsers_reject_foreign_keys() -> None:
    with pytest.raises(ValueError, match=r"^not a task key: "):
        keys.parse_task_key(keys.user_key("u"))
    with pytest.raises(ValueError, match=r"^not a user key: "):
        keys.parse_user_key(keys.task_key("u", "t"))
    with pytest.raises(ValueError, match=r"^not a due sort key: "):
        keys.parse_due_sort_key("2030-01-01")


@pytest.mark.parametrize("sort_key", ["2030-01-01", "2030-01-01#", "~#", "~", ""])
def test_a_due_sort_key_needs_a_date_and_a_task_id(sort_key: str) -> None:
    with pytest.raises(ValueError, match=r"^not a due sort key: "):
        keys.parse_due_sort_key(sort_key)


def test_index_attributes_are_sparse() -> None:
    full = keys.task_index_attributes("u", "t", "pending", "high", "work", dt.date(2030, 1, 2))
    assert set(full) == {name for index in keys.GLOBAL_INDEXES for name in (index.pk, index.sk)}
    bare = keys.task_index_attributes("u", "t", "pending", "high", None, None)
    assert set(bare) == {
        keys.BY_STATUS.pk,
        keys.BY_STATUS.sk,
        keys.BY_PRIORITY.pk,
        keys.BY_PRIORITY.sk,
    }


@given(st.text(min_size=1), st.text(min_size=1))
def test_counter_items_are_one_per_stream_shard_in_one_partition(a: str, b: str) -> None:
    # One partition (one Query reads them all); one item per shard (no two
    # consumers write the same item), whatever characters a shard id holds.
    assert keys.kpi_counter_key(a)[keys.PK] == keys.KPI_COUNTERS_PARTITION
    assert (keys.kpi_counter_key(a) == keys.kpi_counter_key(b)) == (a == b)


@given(st.text(min_size=1))
def test_activity_shards_are_stable_and_in_range(identifier: str) -> None:
    assert keys.activity_key(dt.date(2030, 1, 1), identifier) == keys.activity_key(
        dt.date(2030, 1, 1), identifier
    )
    key = keys.activity_key(dt.date(2030, 1, 1), identifier)
    assert key[keys.PK].startswith(keys.ACTIVITY_PREFIX + "2030-01-01#")


# --- the table specification --------------------------------------------------------------


def test_table_spec_defines_every_key_attribute_once() -> None:
    spec = keys.TABLE_SPEC
    request = spec.create_table_request("t")
    defined = [d["AttributeName"] for d in request["AttributeDefinitions"]]
    assert len(defined) == len(set(defined))
    used = {k["AttributeName"] for k in request["KeySchema"]}
    for gsi in request["GlobalSecondaryIndexes"]:
        used |= {k["AttributeName"] for k in gsi["KeySchema"]}
        assert gsi["Projection"] == {"ProjectionType": "ALL"}
    # DynamoDB rejects definitions that no key schema uses, and vice versa.
    assert used == set(defined)


def test_table_spec_matches_the_runbook() -> None:
    spec = keys.TABLE_SPEC
    request = spec.create_table_request("todo-app-data-dev")
    assert request["TableName"] == "todo-app-data-dev"
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert request["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert spec.ttl_attribute == "expires_at"
    names = [g["IndexName"] for g in request["GlobalSecondaryIndexes"]]
    assert names == ["by_status", "by_priority", "by_category", "by_due_date"]


# --- keys that are half right, and the exact stored layout -------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        {keys.PK: "USER#u", keys.SK: "TASK#t"},  # user partition, task sort key
        {keys.PK: "TASK#u", keys.SK: "PROFILE"},  # task partition, profile sort key
        {keys.PK: "STATS#00", keys.SK: "PROFILE"},
        {keys.PK: "USER#u", keys.SK: "PROFILEX"},
        {keys.PK: "USER#u"},
    ],
)
def test_a_user_key_needs_both_halves(key: dict) -> None:
    with pytest.raises(ValueError, match=r"^not a user key: "):
        keys.parse_user_key(key)


@pytest.mark.parametrize(
    "key",
    [
        {keys.PK: "TASK#u", keys.SK: "PROFILE"},
        {keys.PK: "USER#u", keys.SK: "TASK#t"},
        {keys.PK: "IDEMPOTENCY#x", keys.SK: "TASK#t"},
        {keys.SK: "TASK#t"},
    ],
)
def test_a_task_key_needs_both_halves(key: dict) -> None:
    with pytest.raises(ValueError, match=r"^not a task key: "):
        keys.parse_task_key(key)


def test_a_page_cursor_holds_the_keys_of_the_table_or_of_the_index_it_walked() -> None:
    assert keys.key_attributes_for(None) == ("PK", "SK")
    assert keys.key_attributes_for(keys.BY_STATUS) == ("PK", "SK", "GSI1PK", "GSI1SK")
    assert keys.key_attributes_for(keys.BY_PRIORITY) == ("PK", "SK", "GSI2PK", "GSI2SK")
    assert keys.key_attributes_for(keys.BY_CATEGORY) == ("PK", "SK", "GSI3PK", "GSI3SK")
    assert keys.key_attributes_for(keys.BY_DUE_DATE) == ("PK", "SK", "GSI4PK", "GSI4SK")


def test_the_table_schema_is_exactly_the_deployed_one() -> None:
    """Spelled out, not derived: a live table (the CDK deployment's, adopted by
    import) has these attribute names and types; a table whose index
    attributes or types differ cannot be adopted, and items already written
    under the old names would vanish from every list query."""
    request = keys.TABLE_SPEC.create_table_request("t")
    assert request["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert sorted(
        (d["AttributeName"], d["AttributeType"]) for d in request["AttributeDefinitions"]
    ) == sorted(
        (name, "S")
        for name in (
            "PK",
            "SK",
            "GSI1PK",
            "GSI1SK",
            "GSI2PK",
            "GSI2SK",
            "GSI3PK",
            "GSI3SK",
            "GSI4PK",
            "GSI4SK",
        )
    )
    assert [
        (g["IndexName"], [(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]])
        for g in request["GlobalSecondaryIndexes"]
    ] == [
        ("by_status", [("GSI1PK", "HASH"), ("GSI1SK", "RANGE")]),
        ("by_priority", [("GSI2PK", "HASH"), ("GSI2SK", "RANGE")]),
        ("by_category", [("GSI3PK", "HASH"), ("GSI3SK", "RANGE")]),
        ("by_due_date", [("GSI4PK", "HASH"), ("GSI4SK", "RANGE")]),
    ]


def test_stored_key_strings_keep_their_layout() -> None:
    """Existing items are found by these exact strings; changing one orphans them."""
    assert keys.user_key("u#1") == {"PK": "USER#u%231", "SK": "PROFILE"}
    assert keys.task_count_key("u#1") == {"PK": "USER#u%231", "SK": "TASK_COUNT"}
    assert keys.task_key("u", "t%") == {"PK": "TASK#u", "SK": "TASK#t%25"}
    assert keys.idempotency_key("u#r") == {"PK": "IDEMPOTENCY#u%23r", "SK": "IDEMPOTENCY"}
    assert keys.stats_key(3) == {"PK": "STATS#03", "SK": "COUNTERS"}
    assert keys.kpi_counter_key("s#1") == {"PK": "KPI#COUNTERS", "SK": "SHARD#s%231"}
    assert keys.activity_partition(dt.date(2030, 1, 2), 7) == "ACTIVITY#2030-01-02#07"
    assert keys.status_partition("u", "done") == "TASK#u#STATUS#done"
    assert keys.due_sort_key(dt.date(2030, 1, 2), "t") == "2030-01-02#t"
    assert keys.due_sort_key(None, "t") == "~#t"


def test_activity_markers_outlive_the_active_users_window() -> None:
    """ActiveUsers counts markers of the last 24 hours: TTL may delete a marker
    only after that window (and DynamoDB deletes late, never early)."""
    assert keys.ACTIVITY_TTL_SECONDS >= 24 * 3600 + 3600


def test_stored_attribute_names_keep_their_spelling() -> None:
    """Written on items by one deployable (the API) and read from the stream by
    another (the KPI aggregator): a rename in one release breaks the other."""
    assert keys.LAST_WRITE_ATTRIBUTE == "last_write_at"
    assert keys.TTL_ATTRIBUTE == "expires_at"


@given(user_id=ANY_TEXT)
def test_a_task_count_key_names_its_owner(user_id: str) -> None:
    assert keys.task_count_owner(keys.task_count_key(user_id)) == user_id


@pytest.mark.parametrize(
    "key",
    [
        {keys.PK: "USER#u", keys.SK: "PROFILE"},  # the user's profile, not the count
        {keys.PK: "TASK#u", keys.SK: "TASK_COUNT"},  # count sort key under a task partition
        {keys.PK: "USER#u", keys.SK: "TASK_COUNTX"},
        {keys.PK: "USER#u"},
        {keys.SK: "TASK_COUNT"},
        {},
    ],
)
def test_only_a_task_count_key_has_a_count_owner(key: dict) -> None:
    assert keys.task_count_owner(key) is None


def test_the_old_counter_items_are_stats_00_to_07() -> None:
    """Tools find (and delete) the items of the old counter layout by these keys."""
    assert [keys.stats_key(s)["PK"] for s in range(keys.STATS_SHARDS)] == [
        f"STATS#0{n}" for n in range(8)
    ]


def test_activity_markers_spread_over_exactly_eight_partitions_a_day() -> None:
    """The ActiveUsers reader queries partitions 00..07 of a day; markers already
    written live there, so the spread may not change."""
    day = dt.date(2030, 1, 1)
    partitions = {keys.activity_key(day, f"user-{n}")[keys.PK] for n in range(400)}
    assert partitions == {f"ACTIVITY#2030-01-01#0{n}" for n in range(8)}
    # The shard is a stable function of the user id (crc32), not of the process.
    assert keys.activity_key(day, "user-1") == {
        "PK": "ACTIVITY#2030-01-01#04",
        "SK": "USER#user-1",
    }


def test_a_tasks_index_attributes_are_exactly_the_stored_ones() -> None:
    """Each index's key attributes hold the value its queries look for."""
    full = keys.task_index_attributes("u", "t", "pending", "high", "work", dt.date(2030, 1, 2))
    assert full == {
        "GSI1PK": "TASK#u#STATUS#pending",
        "GSI1SK": "2030-01-02#t",
        "GSI2PK": "TASK#u#PRIORITY#high",
        "GSI2SK": "2030-01-02#t",
        "GSI3PK": "TASK#u#CATEGORY#work",
        "GSI3SK": "2030-01-02#t",
        "GSI4PK": "TASK#u",
        "GSI4SK": "2030-01-02#t",
    }
    assert keys.task_index_attributes("u", "t", "done", "low", None, None) == {
        "GSI1PK": "TASK#u#STATUS#done",
        "GSI1SK": "~#t",
        "GSI2PK": "TASK#u#PRIORITY#low",
        "GSI2SK": "~#t",
    }


def test_the_index_and_table_descriptions_cannot_be_changed_at_run_time() -> None:
    """Shared by every module of a process: one that reassigned a name would
    change every other module's queries."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        keys.BY_STATUS.pk = "GSI9PK"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        keys.TABLE_SPEC.ttl_attribute = "ttl"  # type: ignore[misc]
