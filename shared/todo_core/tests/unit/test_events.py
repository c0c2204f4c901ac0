"""Stream record -> change event: every value preserved exactly, bookkeeping skipped."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from dynamodb_values import ITEMS, NAMES, expected_plain, record_as_lambda_json, same
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from todo_core import events, keys

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> Dict[str, Any]:
    with open(FIXTURES / name, encoding="utf-8") as handle:
        data: Dict[str, Any] = json.load(handle)
    return data


def record(
    event_name: str,
    item_keys: Dict[str, str],
    new: Optional[Dict[str, Any]],
    old: Optional[Dict[str, Any]],
    sequence: str = "1000",
    created: Any = 1732560000,
) -> Dict[str, Any]:
    ddb: Dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": {k: {"S": v} for k, v in item_keys.items()},
        "SequenceNumber": sequence,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    return {"eventID": "e-1", "eventName": event_name, "dynamodb": ddb}


ANY_ID = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=60)
@given(
    user_id=ANY_ID,
    task_id=ANY_ID,
    new=ITEMS,
    old=ITEMS,
    event_name=st.sampled_from(["INSERT", "MODIFY", "REMOVE"]),
    lambda_form=st.booleans(),
    sequence=st.integers(0, 10**40 - 1).map(str),
)
def test_conversion_preserves_every_value_exactly(
    user_id: str,
    task_id: str,
    new: Dict[str, Any],
    old: Dict[str, Any],
    event_name: str,
    lambda_form: bool,
    sequence: str,
) -> None:
    item_keys = keys.task_key(user_id, task_id)
    typed_keys = {k: {"S": v} for k, v in item_keys.items()}
    new_image = {**new, **typed_keys} if event_name != "REMOVE" else None
    old_image = {**old, **typed_keys} if event_name != "INSERT" else None
    raw = record(event_name, item_keys, new_image, old_image, sequence=sequence)
    if lambda_form:  # Lambda delivers binary as base64 text; boto3 as bytes
        raw = record_as_lambda_json(raw)
    before = copy.deepcopy(raw)

    event = events.change_event_from_stream_record(raw)

    assert raw == before, "the input record must not be modified"
    assert event["entity_type"] == "task"
    assert event["user_id"] == user_id
    assert event["keys"] == item_keys
    assert event["event_name"] == event_name
    assert event["sequence_number"] == sequence
    for image, side in ((new_image, "new_image"), (old_image, "old_image")):
        if image is None:
            assert event[side] is None
        else:
            expected = {
                k: expected_plain(v) for k, v in image.items() if k not in events.INDEX_ATTRIBUTES
            }
            assert same(event[side], expected)

    # ... and through a bronze JSON line, back again, still exact.
    line = events.to_json_line(event)
    assert line.endswith("\n")
    assert "\n" not in line[:-1]
    parsed = events.parse_json_line(line)
    assert parsed.sequence_number == sequence
    assert same(parsed.new_image, event["new_image"])
    assert same(parsed.old_image, event["old_image"])


def test_lambda_fixture_insert() -> None:
    event = events.change_event_from_stream_record(load("stream_insert_task.json"))
    assert event["event_id"] == "c4ca4238a0b923820dcc509a6f75849b"
    assert event["approximate_creation_time"] == 1732560000000
    image = event["new_image"]
    assert image["estimate_hours"] == Decimal("0.12345678901234567890123456789012345678")
    assert image["big"] == 99999999999999999999999999999999999999
    assert type(image["big"]) is int
    assert image["version"] == 1
    assert type(image["version"]) is int
    assert image["tags"] == ["api", "urgent"]
    assert image["scores"] == [-2000, Decimal("1.5"), 3]
    assert image["blobs"] == ["/w==", "AAEC"]
    assert image["payload"] == "aGVsbG8="
    assert image["meta"] == {"nested": [None, False, 7]}
    assert event["old_image"] is None
    line = events.to_json_line(event)
    assert '"estimate_hours":0.12345678901234567890123456789012345678' in line
    model = events.parse_json_line(line)
    assert model.created_at == dt.datetime(2024, 11, 25, 18, 40, tzinfo=dt.timezone.utc)
    assert model.dedup_key == (
        "TASK#3f1c9a52-8d1e-4d7b-9a51-2f0e6c1d2b77|"
        "TASK#01936d2e-7c00-7a3b-8f00-1d2e3f4a5b6c|111100000000012345678901"
    )


def test_lambda_fixture_modify_with_escaped_user_id() -> None:
    event = events.change_event_from_stream_record(load("stream_modify_task.json"))
    assert event["user_id"] == "user#with%hash"
    assert event["approximate_creation_time"] == 1732560060500
    assert event["old_image"]["status"] == "pending"
    assert event["new_image"]["status"] == "completed"
    events.ChangeEvent.model_validate(event)


def test_lambda_fixture_remove_user() -> None:
    event = events.change_event_from_stream_record(load("stream_remove_user.json"))
    assert (event["entity_type"], event["event_name"]) == ("user", "REMOVE")
    assert event["new_image"] is None
    assert event["old_image"]["email"] == "testuser@example.com"


def test_bookkeeping_records_are_not_domain_entities() -> None:
    with pytest.raises(events.NotADomainEntity):
        events.change_event_from_stream_record(load("stream_insert_idempotency.json"))
    for item_key in (keys.stats_key(1), keys.activity_key(dt.date(2030, 1, 1), "u")):
        raw = record("MODIFY", item_key, {}, {})
        with pytest.raises(events.NotADomainEntity):
            events.change_event_from_stream_record(raw)


def test_impossible_images_are_dropped() -> None:
    """An INSERT has no before-image and a REMOVE no after-image, even when
    the source sends an empty one (moto 5.1 does, for INSERT)."""
    image = {"PK": {"S": "USER#u"}, "SK": {"S": "PROFILE"}, "email": {"S": "u@example.com"}}
    insert = events.change_event_from_stream_record(record("INSERT", keys.user_key("u"), image, {}))
    remove = events.change_event_from_stream_record(record("REMOVE", keys.user_key("u"), {}, image))
    assert insert["old_image"] is None
    assert remove["new_image"] is None
    assert remove["old_image"] == {"email": "u@example.com"}


def test_images_leave_out_table_and_index_keys() -> None:
    """Key attributes are storage layout: the event's ``keys`` carries the item key."""
    raw = load("stream_insert_task.json")
    assert set(raw["dynamodb"]["NewImage"]) & events.INDEX_ATTRIBUTES, "fixture has key attributes"
    event = events.change_event_from_stream_record(raw)
    assert not set(event["new_image"]) & events.INDEX_ATTRIBUTES
    assert event["keys"] == {k: v["S"] for k, v in raw["dynamodb"]["Keys"].items()}
    assert event["new_image"]["task_id"]


def test_boto3_datetime_creation_time_is_accepted() -> None:
    created = dt.datetime(2030, 1, 1, 0, 0, 1, 250000, tzinfo=dt.timezone.utc)
    raw = record("INSERT", keys.user_key("u"), {"PK": {"S": "USER#u"}}, None, created=created)
    event = events.change_event_from_stream_record(raw)
    assert event["approximate_creation_time"] == int(created.timestamp() * 1000)


@pytest.mark.parametrize("event_name", ["UPSERT", "insert", ""])
def test_unknown_event_names_are_errors(event_name: str) -> None:
    raw = record(event_name, keys.user_key("u"), {}, None)
    with pytest.raises(ValueError, match="eventName"):
        events.change_event_from_stream_record(raw)


def test_malformed_records_are_errors() -> None:
    with pytest.raises(KeyError):
        events.change_event_from_stream_record({"eventName": "INSERT", "dynamodb": {}})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"event_name": "INSERT", "new_image": None}, "new_image"),
        ({"event_name": "REMOVE", "old_image": None}, "old_image"),
        ({"user_id": "someone-else"}, "keys do not match"),
        ({"entity_type": "user"}, "keys do not match"),
        ({"sequence_number": "12a"}, "sequence_number"),
        ({"schema_version": 2}, "schema_version"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_contract_breaks_are_rejected(changes: Dict[str, Any], message: str) -> None:
    event = events.change_event_from_stream_record(load("stream_modify_task.json"))
    event.update(changes)
    with pytest.raises(ValidationError, match=message):
        events.parse_json_line(events.to_json_line(event))


@given(NAMES)
def test_parse_json_line_rejects_non_json(garbage: str) -> None:
    with pytest.raises((json.JSONDecodeError, ValidationError)):
        events.parse_json_line("{" + garbage)
