"""Cursors carry a key id and an issue time: they expire, and survive a key rotation."""

from __future__ import annotations

from typing import Dict, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todo_core.cursor import DEFAULT_MAX_AGE_SECONDS, CursorCodec
from todo_core.errors import InvalidCursor

OLD = b"o" * 32
NEW = b"n" * 32
POSITION = {"PK": "TASK#u", "SK": "TASK#t"}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_cursor_signed_with_the_previous_key_is_accepted_during_a_rotation() -> None:
    clock = Clock()
    before = CursorCodec(OLD, clock=clock)
    during = CursorCodec(NEW, previous=OLD, clock=clock)
    after = CursorCodec(NEW, clock=clock)
    issued_before = before.encode("scope", POSITION)
    assert during.decode("scope", issued_before) == POSITION
    issued_during = during.encode("scope", POSITION)
    # New cursors are signed with the current key only.
    assert after.decode("scope", issued_during) == POSITION
    with pytest.raises(InvalidCursor):
        before.decode("scope", issued_during)
    # Once the old key is retired, its cursors are refused.
    with pytest.raises(InvalidCursor):
        after.decode("scope", issued_before)


def test_cursors_expire_after_the_documented_time() -> None:
    clock = Clock()
    codec = CursorCodec(NEW, clock=clock)
    cursor = codec.encode("scope", POSITION)
    clock.now += DEFAULT_MAX_AGE_SECONDS
    assert codec.decode("scope", cursor) == POSITION
    clock.now += 1
    with pytest.raises(InvalidCursor, match="expired"):
        codec.decode("scope", cursor)


def test_a_cursor_from_the_future_is_refused() -> None:
    clock = Clock()
    issued = CursorCodec(NEW, clock=Clock(clock.now + 3600)).encode("scope", POSITION)
    with pytest.raises(InvalidCursor):
        CursorCodec(NEW, clock=clock).decode("scope", issued)


@given(st.lists(st.binary(min_size=32, max_size=64), min_size=2, max_size=2, unique=True))
def test_the_key_id_names_the_key(secrets: List[bytes]) -> None:
    first, second = (CursorCodec(s) for s in secrets)
    assert first.key_id != second.key_id
    assert secrets[0].hex() not in first.key_id


@given(st.dictionaries(st.sampled_from(["PK", "SK", "GSI1PK"]), st.text(max_size=40)))
def test_round_trip_with_rotation(position: Dict[str, str]) -> None:
    during = CursorCodec(NEW, previous=OLD)
    assert during.decode("s", CursorCodec(OLD).encode("s", position)) == position
    assert during.decode("s", during.encode("s", position)) == position


def test_a_cursor_is_accepted_up_to_the_tolerated_clock_skew_and_no_further() -> None:
    """Containers' clocks differ by up to a minute: a cursor issued up to 60 s "in
    the future" is accepted; one issued later than that is refused as expired."""
    clock = Clock()
    reader = CursorCodec(NEW, clock=clock)
    at_skew = CursorCodec(NEW, clock=Clock(clock.now + 60)).encode("s", POSITION)
    assert reader.decode("s", at_skew) == POSITION
    beyond = CursorCodec(NEW, clock=Clock(clock.now + 61)).encode("s", POSITION)
    with pytest.raises(InvalidCursor, match=r"^cursor expired; start again from the first page$"):
        reader.decode("s", beyond)


def test_a_codec_without_a_previous_key_verifies_with_its_own_only() -> None:
    """Passing the current key again as "previous" is harmless (one key)."""
    codec = CursorCodec(NEW, previous=NEW)
    assert codec.decode("s", CursorCodec(NEW).encode("s", POSITION)) == POSITION
    with pytest.raises(InvalidCursor):
        codec.decode("s", CursorCodec(OLD).encode("s", POSITION))


def test_a_client_has_an_hour_to_page_through_a_list() -> None:
    clock = Clock()
    codec = CursorCodec(NEW, clock=clock)
    cursor = codec.encode("s", POSITION)
    clock.now += 3600
    assert codec.decode("s", cursor) == POSITION
    clock.now += 1
    with pytest.raises(InvalidCursor, match=r"^cursor expired; start again from the first page$"):
        codec.decode("s", cursor)


def test_a_shorter_maximum_age_is_honoured() -> None:
    clock = Clock()
    codec = CursorCodec(NEW, max_age_seconds=10, clock=clock)
    cursor = codec.encode("s", POSITION)
    clock.now += 10
    assert codec.decode("s", cursor) == POSITION
    clock.now += 1
    with pytest.raises(InvalidCursor, match="expired"):
        codec.decode("s", cursor)


def test_a_keys_id_is_the_same_in_every_release() -> None:
    """During a deploy, containers of two releases verify each other's cursors:
    the id a key is named by must not change between releases."""
    assert CursorCodec(NEW).key_id == "7d92263144fa"
