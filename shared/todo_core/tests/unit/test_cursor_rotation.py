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
